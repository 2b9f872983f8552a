import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { connect as tcpConnect, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Inject, Injectable } from '@nestjs/common';
import ssh2 from 'ssh2';
import { APP_CONFIG, Clock, type AppConfig } from '../../src/index.js';
import { ProbeAddressRefused, ProbeResolver } from './probe-address.js';
import type { HttpTarget, ProbeOutcome, ProbeRow, SshTarget, TcpTarget } from './probe.types.js';

const { Client } = ssh2;

/** What an HTTP probe reads of a body to look for the expected text. */
const MAX_BODY = 256 * 1024;
/** Longest output of an SSH command kept in a result's detail. */
const MAX_OUTPUT = 500;

export interface RunOptions {
  allowPrivate: boolean;
  /** The SSH password or private key, already read from its variable or decrypted. */
  secret?: string;
}

/** The SSH host key fingerprint as `ssh-keygen -lf` prints it: `SHA256:` + unpadded base64 of the key blob. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Quotes one argument for a POSIX shell (the remote side runs commands through the user's shell). */
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The only code of the probes that speaks to customer instances. Every host is resolved and checked by the
 * address policy at each run, and the socket connects to the checked address, never to the name again.
 */
@Injectable()
export class ProbeNetworkRepository {
  readonly resolver: ProbeResolver;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    this.resolver = new ProbeResolver(config.env.PROBE_DNS_SERVERS);
  }

  /** Runs one probe within its timeout; never throws: a failure is an outcome with its reason. */
  async run(probe: ProbeRow, options: RunOptions): Promise<ProbeOutcome> {
    const started = performance.now();
    const timeoutMs = probe.timeout_seconds * 1000;
    const signal = AbortSignal.timeout(timeoutMs);
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const found = await Promise.race([
        this.runKind(probe, options, signal),
        new Promise<never>((_resolve, reject) =>
          signal.addEventListener('abort', () =>
            reject(new Error(`no answer within ${probe.timeout_seconds} s`)),
          ),
        ),
      ]);
      return { ...found, latencyMs: elapsed() };
    } catch (error) {
      const reason = error instanceof ProbeAddressRefused ? `refused: ${error.message}` : errorText(error);
      return { ok: false, latencyMs: elapsed(), detail: reason, missingProcesses: [] };
    }
  }

  private runKind(
    probe: ProbeRow,
    options: RunOptions,
    signal: AbortSignal,
  ): Promise<Omit<ProbeOutcome, 'latencyMs'>> {
    switch (probe.kind) {
      case 'http':
        return this.http(probe.target as HttpTarget, options, signal);
      case 'tcp':
        return this.tcp(probe.target as TcpTarget, options, signal);
      case 'ssh':
        return this.ssh(probe.target as SshTarget, options, signal);
    }
  }

  private async http(
    target: HttpTarget,
    options: RunOptions,
    signal: AbortSignal,
  ): Promise<Omit<ProbeOutcome, 'latencyMs'>> {
    const url = new URL(target.url);
    const address = await this.resolver.checked(url.hostname, options.allowPrivate);
    const client = url.protocol === 'https:' ? https : http;
    const { status, body, certValidTo } = await new Promise<{
      status: number;
      body: string;
      certValidTo?: Date;
    }>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: target.method,
          signal,
          headers: { 'user-agent': 'Vigil probe' },
          // A pinned CA (or the self-signed certificate itself) replaces the system's trust store for this probe.
          ...(target.tls_ca ? { ca: target.tls_ca } : {}),
          // The socket connects to the address checked above, not to a second answer from DNS.
          lookup: (_host, opts, callback) => {
            const family = isIP(address);
            if ((opts as { all?: boolean }).all)
              (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
                { address, family },
              ]);
            else callback(null, address, family);
          },
        },
        (res) => {
          const cert = url.protocol === 'https:' ? (res.socket as TLSSocket).getPeerCertificate() : undefined;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < MAX_BODY) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY),
              certValidTo: cert?.valid_to ? new Date(cert.valid_to) : undefined,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    if (status < target.expect_status_min || status > target.expect_status_max)
      return fail(`HTTP ${status}, expected ${target.expect_status_min}-${target.expect_status_max}`);
    if (target.expect_text && !body.includes(target.expect_text))
      return fail(`HTTP ${status}, but the text "${target.expect_text}" is not in the response`);
    if (certValidTo && target.cert_warning_days > 0) {
      // The application's clock, not the wall clock: tests and replays move it.
      const days = Math.floor((certValidTo.getTime() - this.clock.now().getTime()) / 86_400_000);
      if (days < target.cert_warning_days)
        return fail(
          `HTTP ${status}, but the TLS certificate expires on ${certValidTo.toISOString()} (in ${days} days)`,
        );
    }
    return { ok: true, detail: `HTTP ${status}`, missingProcesses: [] };
  }

  private async tcp(
    target: TcpTarget,
    options: RunOptions,
    signal: AbortSignal,
  ): Promise<Omit<ProbeOutcome, 'latencyMs'>> {
    const address = await this.resolver.checked(target.host, options.allowPrivate);
    await new Promise<void>((resolve, reject) => {
      const socket = tcpConnect({ host: address, port: target.port, signal });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
    return {
      ok: true,
      detail: `TCP ${target.host}:${target.port} accepts connections`,
      missingProcesses: [],
    };
  }

  private async ssh(
    target: SshTarget,
    options: RunOptions,
    signal: AbortSignal,
  ): Promise<Omit<ProbeOutcome, 'latencyMs'>> {
    if (!options.secret) return fail(`no ${target.auth === 'key' ? 'private key' : 'password'} available`);
    const address = await this.resolver.checked(target.host, options.allowPrivate);
    const conn = new Client();
    let hostKeyMismatch: string | undefined;
    const close = () => conn.end();
    signal.addEventListener('abort', close);
    try {
      await new Promise<void>((resolve, reject) => {
        conn.once('ready', () => resolve());
        conn.once('error', (error) =>
          reject(
            hostKeyMismatch
              ? new Error(
                  `host key mismatch: the server presented ${hostKeyMismatch}, expected ${target.host_key_sha256}`,
                )
              : error,
          ),
        );
        conn.connect({
          host: address,
          port: target.port,
          username: target.user,
          ...(target.auth === 'key' ? { privateKey: options.secret } : { password: options.secret }),
          readyTimeout: 60_000,
          // No agent, no keyboard-interactive prompts: only the configured credentials.
          tryKeyboard: false,
          hostVerifier: (key: Buffer) => {
            const presented = hostKeyFingerprint(key);
            if (presented === target.host_key_sha256) return true;
            hostKeyMismatch = presented;
            return false;
          },
        });
      });
      const missing: string[] = [];
      for (const process of target.processes) {
        // `exec`: a login shell of /bin/sh (dash) keeps its `sh -c` wrapper alive, whose command line holds the
        // pattern, so `pgrep -f` would find the wrapper and call a missing process running.
        const { code } = await exec(conn, `exec pgrep -f ${shellQuote(process)}`);
        if (code !== 0) missing.push(process);
      }
      const problems: string[] = [];
      if (missing.length) problems.push(`not running: ${missing.join(', ')}`);
      if (target.command) {
        const { code, output } = await exec(conn, target.command);
        if (code !== 0)
          problems.push(`command exited with ${code}${output ? `: ${output.slice(0, MAX_OUTPUT)}` : ''}`);
      }
      if (problems.length) return { ok: false, detail: problems.join('; '), missingProcesses: missing };
      const checked = [
        target.processes.length ? `${target.processes.length} process(es) running` : '',
        target.command ? 'command exited with 0' : '',
      ].filter(Boolean);
      return {
        ok: true,
        detail: `SSH ok${checked.length ? `: ${checked.join(', ')}` : ''}`,
        missingProcesses: [],
      };
    } finally {
      signal.removeEventListener('abort', close);
      conn.end();
    }
  }
}

/** Runs one command; resolves with its exit code (null when killed by a signal) and its trimmed output. */
function exec(
  conn: InstanceType<typeof Client>,
  command: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    conn.exec(command, (error, stream) => {
      if (error) return reject(error);
      let output = '';
      const collect = (chunk: Buffer) => {
        if (output.length < MAX_OUTPUT * 2) output += chunk.toString('utf8');
      };
      stream.on('data', collect);
      stream.stderr.on('data', collect);
      stream.once('close', (code: number | null) => resolve({ code: code ?? null, output: output.trim() }));
    });
  });
}

const fail = (detail: string): Omit<ProbeOutcome, 'latencyMs'> => ({
  ok: false,
  detail,
  missingProcesses: [],
});

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return 'no answer within the timeout';
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
