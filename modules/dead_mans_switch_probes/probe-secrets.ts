import { SecretKeys, type AppConfig, type SecretBox } from '../../src/index.js';
import type { ProbeSecretsRepository } from './probe-secrets.repository.js';

/** The only environment variables a probe may read its secret from (issue 22: not SESSION_SECRET…). */
export const PROBE_SECRET_ENV = /^PROBE_SECRET_[A-Z0-9_]+$/;

/**
 * Probe secrets (an SSH password or private key) at rest: AES-256-GCM under a key derived (HKDF-SHA256) from the
 * server's SESSION_SECRET — in dev the one core generated under DATA_DIR. Every replica shares that secret; changing
 * it makes stored probe secrets unreadable (the probe then fails and says so: enter the secret again).
 */
export class ProbeSecrets {
  private derived?: SecretBox;

  constructor(
    private readonly config: AppConfig,
    private readonly files: ProbeSecretsRepository,
  ) {}

  /** Derived at first use: a process that never touches a probe secret never needs the session secret. */
  private get key(): SecretBox {
    if (!this.derived) {
      // Core keeps a generated secret in DATA_DIR/session-secret when SESSION_SECRET is not set.
      const secret = this.config.sessionSecret ?? this.files.generatedSessionSecret(this.config.dataDir);
      this.derived = new SecretKeys(secret).box('probe-secrets');
    }
    return this.derived;
  }

  // Core's SecretBox seals in the format probe secrets always had (v1:iv|tag|ciphertext): old rows still open.
  encrypt(plain: string): string {
    return this.key.seal(plain);
  }

  decrypt(stored: string): string {
    try {
      return this.key.open(stored);
    } catch (error) {
      throw new Error(`${(error as Error).message}: enter it again`, { cause: error });
    }
  }
}
