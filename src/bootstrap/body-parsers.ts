import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json, urlencoded } from 'express';
import type { LoadedAddon } from '../addons/addon-loader.js';

/** Largest request body a route accepts unless its addon declares a smaller one. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** A path as the router matches it: case-insensitive, with or without a trailing slash. */
const routeKey = (path: string) => path.toLowerCase().replace(/\/+$/, '') || '/';

/**
 * Parses JSON and form bodies with a size limit per path: an addon's manifest `bodyLimits` lowers it for its
 * routes (the unauthenticated check-in endpoint takes 16 KiB), so an oversized body is refused with 413 while it
 * is read, not after a megabyte was buffered.
 */
export function bodyParsers(addons: LoadedAddon[]): RequestHandler {
  const limited = new Map<string, RequestHandler>();
  for (const { manifest } of addons) {
    for (const [path, limit] of Object.entries(manifest.bodyLimits ?? {}))
      limited.set(routeKey(path), json({ limit }));
  }
  const defaultJson = json({ limit: DEFAULT_BODY_LIMIT });
  const form = urlencoded({ extended: true, limit: DEFAULT_BODY_LIMIT });
  return (request: Request, response: Response, next: NextFunction) => {
    const own = limited.get(routeKey(request.path));
    if (own) return own(request, response, next);
    defaultJson(request, response, (error?: unknown) =>
      error ? next(error) : form(request, response, next),
    );
  };
}
