import { StreamableFile } from '@nestjs/common';
import type { Readable } from 'node:stream';

/**
 * `Content-Disposition: attachment` for a file name that may hold anything a database or configuration name holds
 * (quotes, backslashes, CR/LF, non-ASCII): an ASCII `filename` fallback with every other character replaced, and the
 * exact name in `filename*` (RFC 6266, RFC 5987 `UTF-8''` percent-encoding), which current browsers prefer.
 */
export function attachmentDisposition(filename: string): string {
  // Printable ASCII but the quote and the backslash, which would end or escape the quoted string.
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  // encodeURIComponent leaves `!'()*` alone; RFC 5987's attr-char allows `!` but not the others.
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** A stored backup as a download: the API's and the web page's answer, one and the same. */
export function downloadResponse(file: { stream: Readable; filename: string; size: number }): StreamableFile {
  return new StreamableFile(file.stream, {
    type: 'application/octet-stream',
    disposition: attachmentDisposition(file.filename),
    length: file.size,
  });
}
