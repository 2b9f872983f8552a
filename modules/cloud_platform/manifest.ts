import { defineAddon } from '../../src/index.js';
import { bucketNameCheck } from './checks/bucket-name.check.js';
import { databaseUrlCheck } from './checks/database-url.check.js';
import { logFormatCheck } from './checks/log-format.check.js';
import { pgDumpCheck } from './checks/pg-dump.check.js';
import { runningEnvCheck } from './checks/running-env.check.js';
import { s3StorageCheck } from './checks/s3-storage.check.js';
import { sessionSecretCheck } from './checks/session-secret.check.js';
import { smtpCheck } from './checks/smtp.check.js';
import { CloudPlatformModule } from './cloud-platform.module.js';
import { envCheckCommand } from './env-check.command.js';
import { CloudPlatformInit1732600000000 } from './migrations/1732600000000-cloud_platform-init.js';
import { PlatformReport } from './platform-report.entity.js';

export const manifest = defineAddon({
  name: 'cloud_platform',
  version: '1.0.0',
  summary: 'Validates the running environment at start-up, refuses to run misconfigured, and reports to ops',
  depends: [],
  entities: [PlatformReport],
  migrations: [CloudPlatformInit1732600000000],
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
  module: CloudPlatformModule,
});
