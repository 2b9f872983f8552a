import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachmentDisposition } from '../content-disposition.js';

describe('backup download: Content-Disposition', () => {
  it('keeps a plain name as it is', () => {
    assert.equal(
      attachmentDisposition('vigil.2025-06-02_10-00-00.7.dump'),
      `attachment; filename="vigil.2025-06-02_10-00-00.7.dump"; filename*=UTF-8''vigil.2025-06-02_10-00-00.7.dump`,
    );
  });

  it('cannot be broken by quotes, backslashes, CR/LF or non-ASCII, and keeps the exact name in filename*', () => {
    const name = 'café "prod"\\\r\nSet-Cookie: x=1; (a*b)\'.dump';
    const header = attachmentDisposition(name);
    // One header line, one quoted string: nothing the name holds ends it or starts a parameter.
    assert.doesNotMatch(header, /[\r\n]/);
    assert.match(
      header,
      /^attachment; filename="[\x20-\x21\x23-\x5b\x5d-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%!._~-]+$/,
    );
    assert.equal(
      header.split('; filename*=')[0],
      'attachment; filename="caf_ _prod____Set-Cookie: x=1; (a*b)\'.dump"',
    );
    const encoded = header.split("filename*=UTF-8''")[1];
    assert.equal(decodeURIComponent(encoded), name, 'a browser gets the name back exactly');
  });
});
