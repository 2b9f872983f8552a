import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretKeys, type AppConfig } from '../../../src/index.js';
import type { ProbeSecretsRepository } from './probe-secrets.repository.js';

/** The only environment variables a probe may read its secret from (issue 22: not SESSION_SECRET…). */
export const PROBE_SECRET_ENV = /^PROBE_SECRET_[A-Z0-9_]+$/;

const VERSION = 'v1';

/**
 * Probe secrets (an SSH password or private key) at rest: AES-256-GCM under a key derived (HKDF-SHA256) from the
 * server's SESSION_SECRET — in dev the one core generated under DATA_DIR. Every replica shares that secret; changing
 * it makes stored probe secrets unreadable (the probe then fails and says so: enter the secret again).
 */
export class ProbeSecrets {
  private derived?: Buffer;

  constructor(
    private readonly config: AppConfig,
    private readonly files: ProbeSecretsRepository,
  ) {}

  /** Derived at first use: a process that never touches a probe secret never needs the session secret. */
  private get key(): Buffer {
    if (!this.derived) {
      // Core keeps a generated secret in DATA_DIR/session-secret when SESSION_SECRET is not set.
      const secret = this.config.sessionSecret ?? this.files.generatedSessionSecret(this.config.dataDir);
      this.derived = new SecretKeys(secret).key('probe-secrets');
    }
    return this.derived;
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(stored: string): string {
    const [version, payload] = stored.split(':');
    if (version !== VERSION || !payload) throw new Error('unknown secret format');
    const raw = Buffer.from(payload, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('the stored secret cannot be decrypted (was SESSION_SECRET changed?): enter it again');
    }
  }
}
