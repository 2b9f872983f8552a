import { Module } from '@nestjs/common';
import { StatusPageController } from './status-page.controller.js';
import { StatusPageRepository } from './status-page.repository.js';
import { StatusPageService } from './status-page.service.js';
import { StatusPublicController } from './status-public.controller.js';

@Module({
  controllers: [StatusPageController, StatusPublicController],
  providers: [StatusPageRepository, StatusPageService],
})
export class StatusPageModule {}
