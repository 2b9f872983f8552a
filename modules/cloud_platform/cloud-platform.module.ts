import { Module } from '@nestjs/common';
import { CloudPlatformController } from './cloud-platform.controller.js';
import { CloudPlatformService } from './cloud-platform.service.js';
import { PgDumpRepository } from './pg-dump.repository.js';
import { PlatformEnvironmentRepository } from './platform-environment.repository.js';
import { PlatformEnvironmentService } from './platform-environment.service.js';
import { PlatformReportRepository } from './platform-report.repository.js';
import { S3Repository } from './s3.repository.js';
import { SmtpRepository } from './smtp.repository.js';
import { EnvironmentWebController } from './web/environment-web.controller.js';

@Module({
  controllers: [CloudPlatformController, EnvironmentWebController],
  providers: [
    PlatformReportRepository,
    PlatformEnvironmentRepository,
    PlatformEnvironmentService,
    CloudPlatformService,
    SmtpRepository,
    S3Repository,
    PgDumpRepository,
  ],
})
export class CloudPlatformModule {}
