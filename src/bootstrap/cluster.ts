import cluster, { type Worker } from 'node:cluster';
import { setTimeout as delay } from 'node:timers/promises';
import exitHook from 'async-exit-hook';
import { EXIT_CONFIG, type AppConfig } from '../config/app-config.js';
import { startEmbeddedDatabase } from '../database/embedded-database.js';

/** Pause before replacing a worker that died, so that a crash at start-up does not spin. */
const RESPAWN_DELAY_MS = 1000;

/**
 * The primary process of `WEB_CONCURRENCY` > 1: runs that many copies of the server (`node:cluster`, one shared
 * port) and replaces any that dies. Each worker is an ordinary replica: it migrates under the shared lock (a no-op
 * after the first), serves HTTP and runs the scheduled tasks, which stay exactly-once across workers as they are
 * across replicas. The embedded database, when used, is started once here and the workers attach to it. SIGTERM
 * stops every worker gracefully (each drains its requests), then the database.
 */
export async function runPrimary(config: AppConfig): Promise<void> {
  const database = config.databaseUrl ? undefined : await startEmbeddedDatabase({ dataDir: config.dataDir });
  let stopping = false;
  const workers = new Set<Worker>();
  const fork = () => {
    const worker = cluster.fork();
    workers.add(worker);
    worker.once('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      // A worker that refused its configuration: every worker would, so the server stops.
      if (code === EXIT_CONFIG) {
        console.error('A worker refused the configuration (exit code 78): stopping every worker');
        void stopAll().then(() => process.exit(EXIT_CONFIG));
        return;
      }
      console.error(
        `Worker ${worker.process.pid} ended (${signal ?? `exit code ${code}`}); starting another`,
      );
      void delay(RESPAWN_DELAY_MS).then(() => stopping || fork());
    });
  };
  const stopAll = async () => {
    stopping = true;
    const exited = [...workers].map((w) => new Promise((done) => w.once('exit', done)));
    for (const worker of workers) worker.process.kill('SIGTERM');
    await Promise.all(exited);
    await database?.stop();
  };
  exitHook((done: () => void) => {
    stopAll().then(done, (error: unknown) => {
      console.error(error);
      done();
    });
  });
  console.log(`Vigil primary ${process.pid}: starting ${config.webConcurrency} workers`);
  for (let i = 0; i < config.webConcurrency; i++) fork();
  return Promise.resolve();
}
