import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';

/** An HTTP method a manifest names. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route of an addon, as its controller declares it: `{ method: 'POST', path: '/dead_mans_switch/alive' }`. */
export interface RouteDeclaration {
  method: HttpMethod;
  /** From the root, with the controller's prefix. */
  path: string;
}

/**
 * A route anyone may call, without a session or a token (e.g. a check-in), and the largest body it takes. The
 * manifest is where such routes are declared: core's guard lets them through and its body parser limits them.
 */
export interface PublicEndpoint extends RouteDeclaration {
  /** Largest body, in bytes (default 1 MiB). */
  bodyLimit?: number;
}

/** Every addon's public endpoints, as core's guard reads them. */
export const PUBLIC_ENDPOINTS = Symbol('PUBLIC_ENDPOINTS');

/** A route pattern as the router matches it: case-insensitive, with or without a trailing slash. */
// (?<!\/): a match starts only at a run's first slash; `/\/+$/` rescanned long runs from each slash (quadratic).
export const routeKey = (path: string) => path.toLowerCase().replace(/(?<!\/)\/+$/, '') || '/';

/** `POST /dead_mans_switch/alive`: a route's method and pattern as one key. */
export const endpointKey = (route: RouteDeclaration) => `${route.method} ${routeKey(route.path)}`;

const join = (prefix: string, path: string) =>
  `/${[prefix, path]
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;

/** Nest stores a route's path as a string or a list of them (`@Post(['a', 'b'])`). */
const paths = (value: unknown): string[] =>
  Array.isArray(value) ? (value as string[]) : [typeof value === 'string' ? value : ''];

/** The routes of one handler of a controller, from Nest's decorator metadata (empty when it is not a route). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function handlerRoutes(controller: Function, handler: Function): RouteDeclaration[] {
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  const own = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
  if (method === undefined || own === undefined) return [];
  const name = RequestMethod[method] as HttpMethod;
  return paths(Reflect.getMetadata(PATH_METADATA, controller)).flatMap((prefix) =>
    paths(own).map((path) => ({ method: name, path: join(prefix, path) })),
  );
}

/** Every route a controller serves. */
export function controllerRoutes(controller: Type): RouteDeclaration[] {
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype)
    .filter((name) => name !== 'constructor' && typeof prototype[name] === 'function')
    .flatMap((name) => handlerRoutes(controller, prototype[name] as () => unknown));
}
