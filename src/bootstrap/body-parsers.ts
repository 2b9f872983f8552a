import type { IncomingMessage, ServerResponse } from 'node:http';
import bodyParser from 'body-parser';
import type { FastifyInstance } from 'fastify';
import type { LoadedAddon } from '../addons/addon-loader.js';
import { routeKey } from '../common/endpoints.js';

/** A Node.js request that a parser gave a body. */
export type ParsedRequest = IncomingMessage & { body?: unknown };
type Done = (error?: unknown) => void;
type Parser = (request: ParsedRequest, response: ServerResponse, next: Done) => void;
/**
 * Parses a request's body into `request.body`, then calls `done` (with the error that refused it, if any). `route`
 * is the pattern of the route the router matched (`/dead_mans_switch/alive`), undefined when none did.
 */
export type BodyParser = (request: ParsedRequest, route: string | undefined, done: Done) => void;

/** Largest request body a route accepts unless its addon declares a smaller one. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Smallest of the limits: what a request no route matched may send (it is answered 404 anyway). */
const smallest = (limits: Iterable<number>) => Math.min(DEFAULT_BODY_LIMIT, ...limits);

/** The content types the common case sends, spelled as clients (and the OCA module) spell them. */
const PLAIN_JSON = new Set([
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
]);

/** JSON's insignificant white space, which may precede the first character. */
const FIRST_CHAR = /^[ \t\n\r]*(.)/;

/**
 * Parses JSON and form bodies with a size limit per path (body-parser's parsers, run by Fastify as its one content type
 * parser, so that compressed bodies, charsets and the limits behave as they did on Express): the `bodyLimit` of an
 * addon's manifest `publicEndpoints` lowers it for those routes (the unauthenticated check-in endpoint takes 16 KiB), so an oversized body is refused with 413 while it
 * is read, not after a megabyte was buffered.
 *
 * The common case — `application/json` in UTF-8, not compressed, with a `Content-Length` within the limit — is
 * read here in one pass, without body-parser's content negotiation, charset decoder and stream plumbing; its
 * errors are body-parser's (same status, `type` and `limit`), so they render the same. Anything else (no length,
 * over the limit, compressed, another charset or type) goes to body-parser, which refuses or inflates within the
 * same limit.
 */
export function bodyParsers(addons: LoadedAddon[]): BodyParser {
  const limited = new Map<string, { limit: number; parser: Parser }>();
  for (const { manifest } of addons) {
    for (const { path, bodyLimit: limit } of manifest.publicEndpoints ?? [])
      if (limit !== undefined)
        limited.set(routeKey(path), { limit, parser: bodyParser.json({ limit }) as Parser });
  }
  const defaultJson = bodyParser.json({ limit: DEFAULT_BODY_LIMIT }) as Parser;
  const form = bodyParser.urlencoded({ extended: true, limit: DEFAULT_BODY_LIMIT }) as Parser;
  const unmatchedLimit = smallest([...limited.values()].map((entry) => entry.limit));
  const unmatched = { limit: unmatchedLimit, parser: bodyParser.json({ limit: unmatchedLimit }) as Parser };
  // body-parser never writes to the response.
  const response = undefined as unknown as ServerResponse;
  return (request, route, next) => {
    // Keyed by the route the router matched, never by the URL as sent: `/dead_mans_switch/%61live` is the alive
    // route, and gets its limit.
    const own = route === undefined ? unmatched : limited.get(routeKey(route));
    const limit = own?.limit ?? DEFAULT_BODY_LIMIT;
    if (readsPlainJson(request, limit)) return readJson(request, next);
    if (own) return own.parser(request, response, next);
    defaultJson(request, response, (error?: unknown) =>
      error ? next(error) : form(request, response, next),
    );
  };
}

/** Makes `parse` Fastify's only content type parser: every body of every type goes through it. */
export function useBodyParsers(fastify: FastifyInstance, parse: BodyParser): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    const raw: ParsedRequest = request.raw;
    parse(raw, request.is404 ? undefined : request.routeOptions.url, (error) => {
      // Fastify takes an undefined body as "no body": a body of another type stays unread, as on Express.
      if (error) done(error as Error, undefined);
      else done(null, raw.body);
    });
  });
}

function readsPlainJson(request: ParsedRequest, limit: number): boolean {
  const { headers } = request;
  const type = headers['content-type'];
  if (type === undefined || !PLAIN_JSON.has(type.toLowerCase())) return false;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const length = headers['content-length'];
  if (length === undefined || headers['transfer-encoding'] !== undefined) return false;
  const size = Number(length);
  return Number.isInteger(size) && size >= 0 && size <= limit;
}

/** Reads a body whose length the headers gave (and Node's parser enforces), then parses it. */
function readJson(request: ParsedRequest, next: Done): void {
  const chunks: Buffer[] = [];
  let done = false;
  const finish = (error?: Error) => {
    if (done) return;
    done = true;
    request.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
    next(error);
  };
  const onData = (chunk: Buffer) => chunks.push(chunk);
  const onEnd = () => {
    const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
    try {
      request.body = parseStrict(text);
    } catch (error) {
      return finish(httpError(new SyntaxError((error as Error).message), 400, 'entity.parse.failed'));
    }
    finish();
  };
  const onError = (error: Error) => finish(httpError(error, 400, 'request.aborted'));
  const onAborted = () => finish(httpError(new Error('request aborted'), 400, 'request.aborted'));
  request.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
}

/** As body-parser's `json()` (strict): an object or an array, an empty body being `{}`. */
function parseStrict(text: string): unknown {
  // A byte order mark, which body-parser's decoder drops.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length === 0) return {};
  const first = FIRST_CHAR.exec(body)?.[1];
  if (first !== undefined && first !== '{' && first !== '[')
    throw new SyntaxError(`Unexpected token ${first} in JSON at position 0`);
  return JSON.parse(body);
}

/** An error shaped like http-errors' (what body-parser passes on), so Nest and our filter map it the same. */
function httpError(error: Error, status: number, type: string): Error {
  return Object.assign(error, { status, statusCode: status, expose: true, type });
}
