import { X509Certificate } from 'node:crypto';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
/** A block's body: one character class, no nested quantifier (a linear match). */
const BASE64_BODY = /^[A-Za-z0-9+/=\s]+$/;
const isSpace = (char: string) => /\s/.test(char);

/** What is wrong with a `tls_ca` value: its layout, or the certificate at `index` (1-based). */
export type PemProblem = { kind: 'format' } | { kind: 'invalid'; index: number };

/**
 * The PEM blocks of `text` found by one left-to-right scan (white space between blocks), or undefined when
 * anything else is there. A single regex over the whole text backtracked exponentially (issue 22).
 */
export function splitPemCertificates(text: string): string[] | undefined {
  const blocks: string[] = [];
  let position = 0;
  for (;;) {
    while (position < text.length && isSpace(text[position])) position++;
    if (position === text.length) return blocks;
    if (!text.startsWith(BEGIN, position)) return undefined;
    const end = text.indexOf(END, position + BEGIN.length);
    if (end < 0 || !BASE64_BODY.test(text.slice(position + BEGIN.length, end))) return undefined;
    blocks.push(text.slice(position, end + END.length));
    position = end + END.length;
  }
}

/** Undefined when `text` is one or more PEM certificates that X.509 parsing accepts. */
export function pemCertificatesProblem(text: string): PemProblem | undefined {
  const blocks = splitPemCertificates(text);
  if (!blocks?.length) return { kind: 'format' };
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return { kind: 'invalid', index: i + 1 };
    }
  }
  return undefined;
}
