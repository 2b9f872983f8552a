import 'reflect-metadata';
import cluster from 'node:cluster';
import exitHook from 'async-exit-hook';
import { AddonError } from './addons/addon-loader.js';
import { ConfigError, EXIT_CONFIG } from './config/app-config.js';
import { startVigil } from './bootstrap/application.js';
import { runPrimary } from './bootstrap/cluster.js';
import { loadConfigWithAddons } from './bootstrap/load-config.js';
import { EnvironmentRefusal } from './environment/environment-report.js';
import { EnvironmentService } from './environment/environment.service.js';

async function main(): Promise<void> {
  const config = await loadConfigWithAddons();
  // WEB_CONCURRENCY > 1: this process only runs the workers, each of which comes back here as a server.
  if (config.webConcurrency > 1 && cluster.isPrimary) return runPrimary(config);
  const vigil = await startVigil({ config, listen: true });
  const report = vigil.environmentReport;
  if (report && !report.ok) {
    // CLOUD_PLATFORM_UNSAFE: the start goes on, and says so where nobody can miss it.
    const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.id);
    console.error(
      [
        '!'.repeat(100),
        `!!! UNSAFE START: CLOUD_PLATFORM_UNSAFE is set and ${failed.length} environment check(s) fail: ${failed.join(', ')}`,
        '!!! This environment is misconfigured; see GET /api/v1/cloud_platform/status or npx vigil env:check.',
        '!'.repeat(100),
      ].join('\n'),
    );
  } else if (report?.unsafe) {
    console.error('CLOUD_PLATFORM_UNSAFE is set: a failing environment check would not stop this start.');
  }
  // Closes HTTP first, then the database pool, then the embedded server, before the process exits.
  exitHook((done: () => void) => {
    vigil.close().then(
      () => {
        console.log('Vigil stopped');
        done();
      },
      (error: unknown) => {
        console.error(error);
        done();
      },
    );
  });
  // In dev the report is read by a person at a terminal: the table env:check prints, not only the log line.
  if (report && config.runningEnv === 'dev')
    console.log(vigil.app.get(EnvironmentService).formatTable(report, 'en', process.stdout.isTTY === true));
  console.log(`Vigil is listening on ${vigil.url}: open ${vigil.url}/web (API docs: ${vigil.url}/api/docs)`);
  if (vigil.createdAdmin) {
    const { email, password } = vigil.createdAdmin;
    console.log(
      password
        ? `First administrator created: log in as ${email} with password ${password} (shown once; change it)`
        : `First administrator created: log in as ${email} with ADMIN_PASSWORD`,
    );
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof AddonError || error instanceof EnvironmentRefusal) {
    console.error(error.message);
    process.exit(EXIT_CONFIG);
  }
  console.error(error);
  process.exit(1);
});
