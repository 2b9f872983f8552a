import { Readable } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';

/** The file format of encrypted backups (age, https://age-encryption.org/v1), readable by `age -d`. */
export const AGE_HEADER = 'age-encryption.org/v1';

/** Encrypts a stream with a passphrase (age's scrypt recipient), streaming: memory stays flat. */
export async function encryptStream(input: Readable, passphrase: string): Promise<Readable> {
  const encrypter = new Encrypter();
  encrypter.setPassphrase(passphrase);
  const encrypted = await encrypter.encrypt(Readable.toWeb(input) as ReadableStream<Uint8Array>);
  return Readable.fromWeb(encrypted);
}

/** Decrypts a stream written by `encryptStream` (or `age -p`); a wrong passphrase fails before any output. */
export async function decryptStream(input: Readable, passphrase: string): Promise<Readable> {
  const decrypter = new Decrypter();
  decrypter.addPassphrase(passphrase);
  const decrypted = await decrypter.decrypt(Readable.toWeb(input) as ReadableStream<Uint8Array>);
  return Readable.fromWeb(decrypted);
}
