import { createHmac, timingSafeEqual } from 'node:crypto';

/** Where an acknowledge link leads (public: the signed token is the credential). */
export const ACK_PATH = '/dead_mans_switch/ack';

/** What an acknowledge link carries: the incident, the recipient it was sent to, when it stops working. */
export interface AckLink {
  incidentId: number;
  partnerId: number;
  expiresAt: Date;
}

export type AckLinkCheck = { ok: true; link: AckLink } | { ok: false; reason: 'invalid' | 'expired' };

const signature = (key: Buffer, payload: string) =>
  createHmac('sha256', key).update(`ack.${payload}`).digest('base64url');

/** `<incident>.<partner>.<expiry, unix seconds>.<HMAC-SHA256 of the rest>`: the same on every retry of a message. */
export function signAckLink(key: Buffer, link: AckLink): string {
  const payload = `${link.incidentId}.${link.partnerId}.${Math.floor(link.expiresAt.getTime() / 1000)}`;
  return `${payload}.${signature(key, payload)}`;
}

/** The link a token stands for, if its signature holds and it has not expired at `now`. */
export function verifyAckLink(key: Buffer, token: string, now: Date): AckLinkCheck {
  const match = /^(\d{1,10})\.(\d{1,10})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { ok: false, reason: 'invalid' };
  const payload = `${match[1]}.${match[2]}.${match[3]}`;
  const expected = Buffer.from(signature(key, payload));
  const given = Buffer.from(match[4]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'invalid' };
  const link = {
    incidentId: Number(match[1]),
    partnerId: Number(match[2]),
    expiresAt: new Date(Number(match[3]) * 1000),
  };
  if (link.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, link };
}
