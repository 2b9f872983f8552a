import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpStatus } from '@nestjs/common';
import { AppException } from '../../../src/index.js';

/** The request header that carries an instance's check-in token on alive, cancel, event and start. */
export const CHECKIN_TOKEN_HEADER = 'X-Vigil-Token';

/** A new token: 256 random bits, URL-safe, with a prefix that secret scanners and people recognise. */
export function newCheckInToken(): string {
  return `vdms_${randomBytes(32).toString('base64url')}`;
}

/**
 * What is stored of a token: its SHA-256. The token is 256 random bits, so a fast hash is enough (no guessing
 * from the hash), and it does not depend on `SESSION_SECRET`: rotating that secret does not lock instances out.
 */
export function hashCheckInToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The header's value, when a request carries exactly one. */
export function presentedToken(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * Whether a request may act for an instance: always when the instance has no token (OCA clients, unchanged);
 * else only with the token, compared in constant time (hashes of equal length).
 */
export function tokenAllows(stored: Buffer | null | undefined, presented: string | undefined): boolean {
  if (!stored) return true;
  if (presented === undefined) return false;
  return timingSafeEqual(hashCheckInToken(presented), stored);
}

/** Refuses (401, nothing recorded) a request for an instance with a token, without that token. */
export function checkToken(stored: Buffer | null | undefined, presented: string | undefined): void {
  if (!tokenAllows(stored, presented))
    throw new AppException(HttpStatus.UNAUTHORIZED, 'dead_mans_switch_server.errors.bad_token', {
      header: CHECKIN_TOKEN_HEADER,
    });
}
