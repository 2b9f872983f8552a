import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import ssh2 from 'ssh2';

const { Server, utils } = ssh2;

/**
 * An ed25519 key pair in OpenSSH format. ssh2's generator writes a key its own parser refuses about once in 300
 * ("Malformed OpenSSH private key"), which made the probe tests fail at random: draw again until it parses.
 */
function ed25519KeyPair() {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

/** An HTTP server on 127.0.0.1 whose answer a test sets: status and body. */
export class HttpTarget {
  status = 200;
  body = 'Vigil ready';
  requests = 0;
  port = 0;
  private server?: http.Server;

  url(path = '/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<this> {
    const server = http.createServer((_req, res) => {
      this.requests++;
      res.writeHead(this.status, { 'content-type': 'text/plain' }).end(this.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A TCP listener on 127.0.0.1 that accepts connections and closes them. */
export async function tcpListener(): Promise<{ port: number; stop(): Promise<void> }> {
  const server: NetServer = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const listener = await tcpListener();
  await listener.stop();
  return listener.port;
}

/** `SHA256:…` of an OpenSSH public key, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(publicKey: string): string {
  const parsed = utils.parseKey(publicKey);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('bad public key');
  return `SHA256:${createHash('sha256').update(parsed.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
}

/**
 * An SSH server in-process on 127.0.0.1 (ssh2's Server): one user, with a password or a public key, and an exec
 * handler that answers `[exec ]pgrep -f '<name>'` with exit code 0 for the `running` processes and 1 for others; any other
 * command exits with `commands[command]` (127 when unknown). With `realShell`, every command instead really runs
 * through `/bin/sh -c` (dash on Debian) as sshd runs it through a login shell of /bin/sh.
 */
export class SshTarget {
  readonly hostKey = ed25519KeyPair();
  readonly clientKey = ed25519KeyPair();
  readonly user = 'probe';
  readonly password = 'probe-password-7f3c';
  running = new Set<string>();
  commands: Record<string, number> = {};
  readonly executed: string[] = [];
  realShell = false;
  port = 0;
  private server?: InstanceType<typeof Server>;

  get fingerprint(): string {
    return fingerprintOf(this.hostKey.public);
  }

  async start(): Promise<this> {
    const allowedKey = utils.parseKey(this.clientKey.public);
    if (allowedKey instanceof Error || Array.isArray(allowedKey)) throw new Error('bad client key');
    const server = new Server({ hostKeys: [this.hostKey.private] }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.username === this.user && ctx.method === 'password' && ctx.password === this.password)
          return ctx.accept();
        if (
          ctx.username === this.user &&
          ctx.method === 'publickey' &&
          ctx.key.data.equals(allowedKey.getPublicSSH()) &&
          (!ctx.signature || allowedKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo))
        )
          return ctx.accept();
        ctx.reject(['password', 'publickey']);
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          const session = accept();
          session.on('exec', (acceptExec, _reject, info) => {
            const stream = acceptExec();
            this.executed.push(info.command);
            if (this.realShell) {
              const child = spawn('/bin/sh', ['-c', info.command], { stdio: ['ignore', 'pipe', 'pipe'] });
              child.stdout.pipe(stream, { end: false });
              child.stderr.pipe(stream.stderr, { end: false });
              child.on('close', (exitCode) => {
                stream.exit(exitCode ?? 255);
                stream.end();
              });
              return;
            }
            const pgrep = /^(?:exec )?pgrep -f '(.*)'$/.exec(info.command);
            let code: number;
            if (pgrep) code = this.running.has(pgrep[1]) ? 0 : 1;
            else code = this.commands[info.command] ?? 127;
            if (pgrep && code === 0) stream.write('4242\n');
            if (!pgrep && code !== 0) stream.stderr.write(`${info.command}: failed\n`);
            stream.exit(code);
            stream.end();
          });
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
