import { Module } from '@nestjs/common';
import { StatusPageController } from './status-page.controller.js';
import { StatusPageRepository } from './status-page.repository.js';
import { StatusPageService } from './status-page.service.js';
import { StatusPublicController } from './status-public.controller.js';
import { StatusPageWebController } from './status-page-web.controller.js';

@Module({
  controllers: [StatusPageController, StatusPublicController, StatusPageWebController],
  providers: [StatusPageRepository, StatusPageService],
})
export class StatusPageModule {}
