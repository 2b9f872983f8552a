import 'reflect-metadata';
import exitHook from 'async-exit-hook';
import { AddonError } from './addons/addon-loader.js';
import { ConfigError, loadConfig } from './config/app-config.js';
import { startVigil } from './bootstrap/application.js';

/** Exit code for a configuration problem (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

async function main(): Promise<void> {
  const config = loadConfig();
  const vigil = await startVigil({ config, listen: true });
  // Closes HTTP first, then the database pool, then the embedded server, before the process exits.
  exitHook((done: () => void) => {
    vigil.close().then(done, (error: unknown) => {
      console.error(error);
      done();
    });
  });
  console.log(`Vigil is listening on ${vigil.url} (API docs: ${vigil.url}/api/docs)`);
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
  if (error instanceof ConfigError || error instanceof AddonError) {
    console.error(error.message);
    process.exit(EXIT_CONFIG);
  }
  console.error(error);
  process.exit(1);
});
