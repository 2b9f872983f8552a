import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** What a key is for: each purpose has its own key, so one leaking or being misused exposes nothing else. */
export type KeyPurpose =
  | 'session'
  | 'csrf'
  | 'probe-secrets'
  | 'channel-secrets'
  | 'backup-database-url'
  | 'status-page-links'
  | 'setting-secrets'
  | 'incident-ack';

// HKDF-SHA256 `info` of each purpose (the salt is 'vigil'). Probe secrets keep the label they were sealed under
// before this helper existed, so their stored ciphertexts still open.
const INFO: Record<KeyPurpose, string> = {
  session: 'vigil session token',
  csrf: 'vigil web csrf',
  'probe-secrets': 'vigil dead_mans_switch.probe secret',
  'channel-secrets': 'vigil mail.channel settings',
  'backup-database-url': 'vigil backup.config database_url',
  // Signs the confirmation and unsubscribe links of status page subscriptions.
  'status-page-links': 'vigil status_page subscription links',
  'setting-secrets': 'vigil setting secret',
  'incident-ack': 'vigil dead_mans_switch.incident ack link',
};

const VERSION = 'v1';

/** Thrown when a sealed value cannot be opened: another master secret, or a damaged value. */
export class SecretOpenError extends Error {}

/**
 * Values at rest (a channel's token, a database URL with its password): AES-256-GCM under one purpose's key,
 * stored as `v1:<base64 of iv | tag | ciphertext>`.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {}

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string): string {
    const [version, payload] = sealed.split(':');
    if (version !== VERSION || !payload) throw new SecretOpenError('not a sealed value');
    const raw = Buffer.from(payload, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretOpenError('the stored secret cannot be decrypted (was SESSION_SECRET changed?)');
    }
  }

  /** Whether `value` has the sealed format (a plaintext database URL or JSON object never does). */
  static isSealed(value: string): boolean {
    return value.startsWith(`${VERSION}:`);
  }
}

/**
 * The one place keys come from: each purpose's key is derived (HKDF-SHA256) from the master secret —
 * SESSION_SECRET, or in dev the one generated under DATA_DIR — so every replica derives the same keys, and no key
 * serves two purposes (the channel key is neither the token signing key nor the CSRF key).
 */
export class SecretKeys {
  private readonly keys = new Map<KeyPurpose, Buffer>();

  constructor(private readonly master: string) {}

  key(purpose: KeyPurpose): Buffer {
    let key = this.keys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.master, 'vigil', INFO[purpose], 32));
      this.keys.set(purpose, key);
    }
    return key;
  }

  box(purpose: KeyPurpose): SecretBox {
    return new SecretBox(this.key(purpose));
  }
}
