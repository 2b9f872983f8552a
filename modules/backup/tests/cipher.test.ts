import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { Decrypter, Encrypter } from 'age-encryption';
import { AGE_HEADER, decryptStream, encryptStream, PassphraseRecipient } from '../cipher.js';

const PASSPHRASE = 'correct horse battery staple';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('age encryption with a passphrase (scrypt off the event loop)', () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);

  it('round-trips a stream and refuses a wrong passphrase', async () => {
    const sealed = await collect(await encryptStream(Readable.from([data]), PASSPHRASE));
    assert.equal(sealed.subarray(0, AGE_HEADER.length).toString(), AGE_HEADER);
    assert.ok((await collect(await decryptStream(Readable.from([sealed]), PASSPHRASE))).equals(data));
    await assert.rejects(
      async () => collect(await decryptStream(Readable.from([sealed]), 'wrong')),
      /no identity matched/,
    );
  });

  it("is the library's own passphrase format, both ways", async () => {
    const sealed = await collect(await encryptStream(Readable.from([data]), PASSPHRASE));
    const decrypter = new Decrypter();
    decrypter.addPassphrase(PASSPHRASE);
    assert.ok(Buffer.from(await decrypter.decrypt(new Uint8Array(sealed))).equals(data));

    const encrypter = new Encrypter();
    encrypter.setPassphrase(PASSPHRASE);
    const theirs = Buffer.from(await encrypter.encrypt(new Uint8Array(data)));
    assert.ok((await collect(await decryptStream(Readable.from([theirs]), PASSPHRASE))).equals(data));
  });

  it('derives the key off the event loop: other callbacks run while scrypt works', async () => {
    let ranMeanwhile = false;
    const wrapping = new PassphraseRecipient(PASSPHRASE).wrapFileKey(randomBytes(16));
    setImmediate(() => (ranMeanwhile = true));
    const [stanza] = await wrapping;
    assert.ok(ranMeanwhile, 'a callback queued after the call ran before the key was derived');
    assert.equal(stanza.args[0], 'scrypt');
  });
});
