import { defineAddon } from '../../src/index.js';
import { bucketNameCheck } from './checks/bucket-name.check.js';
import { databaseUrlCheck } from './checks/database-url.check.js';
import { logFormatCheck } from './checks/log-format.check.js';
import { pgDumpCheck } from './checks/pg-dump.check.js';
import { runningEnvCheck } from './checks/running-env.check.js';
import { s3StorageCheck } from './checks/s3-storage.check.js';
import { sessionSecretCheck } from './checks/session-secret.check.js';
import { smtpCheck } from './checks/smtp.check.js';
import { CloudPlatformController } from './cloud-platform.controller.js';
import { CloudPlatformService } from './cloud-platform.service.js';
import { PgDumpRepository } from './pg-dump.repository.js';
import { PlatformEnvironmentRepository } from './platform-environment.repository.js';
import { PlatformEnvironmentService } from './platform-environment.service.js';
import { PlatformReportRepository } from './platform-report.repository.js';
import { S3Repository } from './s3.repository.js';
import { SmtpRepository } from './smtp.repository.js';
import { EnvironmentWebController } from './web/environment-web.controller.js';
import { envCheckCommand } from './env-check.command.js';
import { EnvironmentCheckTask } from './environment-check.task.js';
import { CloudPlatformInit1732600000000 } from './migrations/1732600000000-cloud_platform-init.js';
import { CloudPlatformEnvironment1732700000000 } from './migrations/1732700000000-cloud_platform-environment.js';
import { PlatformEnvironment } from './platform-environment.entity.js';
import { ENVIRONMENT_THREAD } from './platform-environment.thread.js';
import { PlatformReport } from './platform-report.entity.js';
import {
  CHECK_TASK_SECONDS,
  ENVIRONMENT_MODEL,
  SETTING_DEFAULTS,
  SUBTYPE_CHECK_FAILED,
  SUBTYPE_CHECK_RECOVERED,
} from './settings.js';

export const manifest = defineAddon({
  name: 'cloud_platform',
  version: '1.0.0',
  vigil: '^0.1.0',
  summary:
    'Validates the running environment at start-up and every few minutes, refuses to run misconfigured, and tells ops when a check changes',
  depends: [],
  entities: [PlatformReport, PlatformEnvironment],
  migrations: [CloudPlatformInit1732600000000, CloudPlatformEnvironment1732700000000],
  seed: {
    settings: SETTING_DEFAULTS,
    subtypes: [
      {
        key: SUBTYPE_CHECK_FAILED,
        name: 'cloud_platform.subtypes.check_failed',
        default: true,
        internal: false,
        model: ENVIRONMENT_MODEL,
      },
      {
        key: SUBTYPE_CHECK_RECOVERED,
        name: 'cloud_platform.subtypes.check_recovered',
        default: true,
        internal: false,
        model: ENVIRONMENT_MODEL,
      },
    ],
  },
  tasks: [
    {
      id: 'cloud_platform.environment_check',
      everySeconds: CHECK_TASK_SECONDS,
      provider: EnvironmentCheckTask,
    },
  ],
  threads: [ENVIRONMENT_THREAD],
  checks: [
    runningEnvCheck,
    databaseUrlCheck,
    sessionSecretCheck,
    logFormatCheck,
    smtpCheck,
    s3StorageCheck,
    bucketNameCheck,
    pgDumpCheck,
  ],
  commands: [envCheckCommand],
  web: {
    templates: 'web/templates',
    menus: [
      {
        id: 'cloud_platform.environment',
        label: 'cloud_platform.web.nav',
        path: '/web/environment',
        role: 'ops',
        sequence: 90,
      },
    ],
  },
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
});
