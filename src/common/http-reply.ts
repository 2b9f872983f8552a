import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * What an exception filter is handed as the response: Fastify's reply for routes, the Node.js response for errors
 * thrown by Nest middleware (which @fastify/middie runs on the raw objects).
 */
export type AnyReply = FastifyReply | ServerResponse;

const isReply = (response: AnyReply): response is FastifyReply => 'raw' in response;

export function headersSent(response: AnyReply): boolean {
  return isReply(response) ? response.sent || response.raw.headersSent : response.headersSent;
}

export function setHeader(response: AnyReply, name: string, value: string | number): void {
  if (isReply(response)) void response.header(name, value);
  else response.setHeader(name, value);
}

/** Ends the response with a body of the given content type. */
export function sendBody(response: AnyReply, status: number, type: string, body: string): void {
  if (isReply(response)) {
    void response.code(status).type(type).send(body);
    return;
  }
  response.statusCode = status;
  response.setHeader('content-type', type);
  response.end(body);
}

export function sendJson(response: AnyReply, status: number, body: unknown): void {
  sendBody(response, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

export interface CookieOptions {
  httpOnly?: boolean;
  sameSite?: 'lax' | 'strict';
  secure?: boolean;
  path: string;
  /** Milliseconds, as Express's `res.cookie` took it. */
  maxAge?: number;
}

/** Appends a `Set-Cookie` header (Fastify keeps every one given). */
export function setCookie(reply: FastifyReply, name: string, value: string, options: CookieOptions): void {
  const parts = [`${name}=${encodeURIComponent(value)}`];
  if (options.maxAge !== undefined) {
    parts.push(`Max-Age=${Math.floor(options.maxAge / 1000)}`);
    parts.push(`Expires=${new Date(Date.now() + options.maxAge).toUTCString()}`);
  }
  parts.push(`Path=${options.path}`);
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  if (options.sameSite) parts.push(`SameSite=${options.sameSite === 'lax' ? 'Lax' : 'Strict'}`);
  void reply.header('set-cookie', parts.join('; '));
}

export function clearCookie(reply: FastifyReply, name: string, path: string): void {
  void reply.header('set-cookie', `${name}=; Path=${path}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`);
}
