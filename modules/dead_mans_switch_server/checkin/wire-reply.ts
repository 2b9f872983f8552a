import { HttpStatus } from '@nestjs/common';
import { AppException, type I18nService, type RequestContext } from '../../../src/index.js';
import type { AliveRequest, PayloadError } from './alive-payload.js';

/** What a successful call of the instance endpoints answers, in both wire forms. */
export interface InstanceReply {
  status: 'ok';
  instance_state: string;
}

/** Odoo's JSON-RPC reply: `result` on success, Odoo's error object otherwise; `id` echoes the request's. */
export type JsonRpcReply<T = InstanceReply> =
  | { jsonrpc: '2.0'; id: string | number | null; result: T }
  | {
      jsonrpc: '2.0';
      id: string | number | null;
      error: {
        code: number;
        message: string;
        data: { name: string; message: string; arguments: string[]; exception_type: string; debug: string };
      };
    };

/** A success in the request's form. */
export function replyOk<T>(request: AliveRequest, result: T): JsonRpcReply<T> | T {
  return request.form === 'jsonrpc' ? { jsonrpc: '2.0', id: request.id, result } : result;
}

/**
 * A refused request in its form: plain JSON throws (400 unless told otherwise); JSON-RPC answers Odoo's error
 * object with HTTP 200, as Odoo does.
 */
export function replyError(
  request: AliveRequest,
  error: PayloadError,
  ctx: RequestContext,
  i18n: I18nService,
  odoo: { status: HttpStatus; name: string; type: string } = {
    status: HttpStatus.BAD_REQUEST,
    name: 'odoo.exceptions.ValidationError',
    type: 'validation_error',
  },
): JsonRpcReply<never> {
  if (request.form === 'plain') throw new AppException(odoo.status, error.key, error.args);
  const message = i18n.t(error.key, ctx.lang, error.args);
  return {
    jsonrpc: '2.0',
    id: request.id,
    error: {
      code: 200,
      message: 'Odoo Server Error',
      data: { name: odoo.name, message, arguments: [message], exception_type: odoo.type, debug: '' },
    },
  };
}
