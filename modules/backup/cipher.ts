import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { Readable } from 'node:stream';
import { Decrypter, Encrypter, Stanza, type Identity, type Recipient } from 'age-encryption';

/** The file format of encrypted backups (age, https://age-encryption.org/v1), readable by `age -d`. */
export const AGE_HEADER = 'age-encryption.org/v1';

/** age's passphrase work factor (log2 of scrypt's N), as `age -p` and the library use. */
export const SCRYPT_LOG_N = 18;

const SCRYPT_LABEL = Buffer.from('age-encryption.org/v1/scrypt');
/** scrypt needs 128 · N · r bytes: 256 MiB at N = 2^18, r = 8 (Node refuses above 32 MiB unless told). */
const SCRYPT_MAXMEM = 2 ** 29;

/**
 * scrypt in libuv's thread pool. The library's passphrase recipient runs scrypt (about a second at N = 2^18)
 * synchronously on the event loop, which would stall every request and timer of the server meanwhile; the stanza
 * written and read here is the library's own `scrypt` stanza, byte for byte.
 */
function deriveKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase,
      Buffer.concat([SCRYPT_LABEL, salt]),
      32,
      { N: 2 ** logN, r: 8, p: 1, maxmem: SCRYPT_MAXMEM },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

/** age's wrapping of the file key: ChaCha20-Poly1305 under the derived key, zero nonce. */
function wrap(fileKey: Uint8Array, key: Buffer): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  return Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
}

function unwrap(body: Uint8Array, key: Buffer): Uint8Array | null {
  if (body.length !== 32) throw new Error('invalid scrypt stanza');
  const decipher = createDecipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  decipher.setAuthTag(body.subarray(16));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, 16)), decipher.final()]);
  } catch {
    return null;
  }
}

const base64NoPad = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/** A passphrase recipient (age `scrypt` stanza) whose key derivation does not block the event loop. */
export class PassphraseRecipient implements Recipient {
  constructor(
    private readonly passphrase: string,
    private readonly logN = SCRYPT_LOG_N,
  ) {}

  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const key = await deriveKey(this.passphrase, salt, this.logN);
    return [new Stanza(['scrypt', base64NoPad(salt), String(this.logN)], wrap(fileKey, key))];
  }
}

/** The identity matching `PassphraseRecipient` (and `age -p`), with the same checks as the library's. */
export class PassphraseIdentity implements Identity {
  constructor(private readonly passphrase: string) {}

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    for (const stanza of stanzas) {
      if (stanza.args[0] !== 'scrypt') continue;
      if (stanzas.length !== 1) throw new Error('scrypt recipient is not the only one in the header');
      if (stanza.args.length !== 3 || !/^[1-9][0-9]*$/.test(stanza.args[2]))
        throw new Error('invalid scrypt stanza');
      const salt = Buffer.from(stanza.args[1], 'base64');
      if (salt.length !== 16) throw new Error('invalid scrypt stanza');
      const logN = Number(stanza.args[2]);
      if (logN > 20) throw new Error('scrypt work factor is too high');
      const fileKey = unwrap(stanza.body, await deriveKey(this.passphrase, salt, logN));
      if (fileKey) return fileKey;
    }
    return null;
  }
}

/** Encrypts a stream with a passphrase in the age format, streaming: memory stays flat. */
export async function encryptStream(
  input: Readable,
  passphrase: string,
  logN = SCRYPT_LOG_N,
): Promise<Readable> {
  const encrypter = new Encrypter();
  encrypter.addRecipient(new PassphraseRecipient(passphrase, logN));
  const encrypted = await encrypter.encrypt(Readable.toWeb(input) as ReadableStream<Uint8Array>);
  return Readable.fromWeb(encrypted);
}

/** Decrypts a stream written by `encryptStream` (or `age -p`); a wrong passphrase fails before any output. */
export async function decryptStream(input: Readable, passphrase: string): Promise<Readable> {
  const decrypter = new Decrypter();
  decrypter.addIdentity(new PassphraseIdentity(passphrase));
  const decrypted = await decrypter.decrypt(Readable.toWeb(input) as ReadableStream<Uint8Array>);
  return Readable.fromWeb(decrypted);
}
