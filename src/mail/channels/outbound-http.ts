import type { IncomingHttpHeaders } from 'node:http';

// What OutboundHttp (outbound-http.repository.ts), core's outgoing HTTP client, takes and gives.

/** A URL the address policy refuses (SSRF: link-local, metadata, reserved, or private when not allowed). */
export class AddressRefusedError extends Error {}

export interface OutboundPolicy {
  /** Loopback and private networks allowed (link-local, metadata and reserved addresses never are). */
  allowPrivate: boolean;
  /** The setting that allows them, named in the refusal (default `mail.channels.allow_private_networks`). */
  privateSetting?: string;
}

export interface OutboundRequest extends OutboundPolicy {
  url: string;
  /** Default GET. */
  method?: string;
  headers?: Record<string, string | number>;
  body?: string;
  /** Stops the request (connection, answer and body): e.g. `AbortSignal.timeout(ms)`; its reason is the error. */
  signal: AbortSignal;
  /** The most of the body kept (default 64 KiB): the connection is closed once it is read, the rest never comes. */
  maxBodyBytes?: number;
  /** PEM certificates trusted instead of the system's (https): a pinned CA or a self-signed certificate. */
  ca?: string;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, at most `maxBodyBytes` of it, as UTF-8. */
  body: string;
  /** The body was longer than `maxBodyBytes`: `body` is its beginning. */
  truncated: boolean;
  /** The address the connection went to: one that the policy checked. */
  address: string;
  /** https: when the server's certificate expires. */
  certValidTo?: Date;
}
