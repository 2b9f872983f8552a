import { Injectable } from '@nestjs/common';
import { CheckInError } from './check-in.error.js';
import { TOKEN_HEADER } from './client-settings.js';

export type CheckInParams = Record<string, string | number | null>;

// Enough of an answer to show administrators what the server said, not enough to bloat the state row.
const MAX_ANSWER_CHARS = 2000;

/** `https://user:secret@host/path` → `https://user:***@host/path`: URLs end up in logs and the status API. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Where a job run's start is told, from the check-in URL: `…/dead_mans_switch/alive` → `…/dead_mans_switch/start`
 * (Vigil's server); any other URL gets `/start` appended (healthchecks.io's convention).
 */
export function startUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.pathname = /\/alive\/?$/.test(parsed.pathname)
      ? parsed.pathname.replace(/\/alive\/?$/, '/start')
      : `${parsed.pathname.replace(/\/$/, '')}/start`;
    return parsed.toString();
  } catch {
    return url;
  }
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** Speaks to a dead man's switch server the way Odoo's OCA client does. */
@Injectable()
export class SwitchServerRepository {
  /**
   * POSTs the Odoo JSON-RPC envelope (`jsonrpc`, `method`, `params`; no `id`, like the OCA client) and returns
   * the server's answer: the parsed JSON, or the text when the server is not an Odoo one (healthchecks.io).
   * Throws a CheckInError on a timeout, a network error, a non-2xx status or a JSON-RPC `error`. `token`: the
   * instance's check-in token, sent in `X-Vigil-Token` (Vigil's server requires it once the instance has one).
   */
  async alive(url: string, params: CheckInParams, timeoutSeconds: number, token?: string): Promise<unknown> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new CheckInError('dead_mans_switch_client.errors.invalid_url', { url: redactUrl(url) });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new CheckInError('dead_mans_switch_client.errors.invalid_url', { url: redactUrl(url) });
    }
    const shown = redactUrl(url);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers[TOKEN_HEADER] = token;
    // fetch refuses URLs with credentials: send them as basic authentication, as urllib does.
    if (target.username || target.password) {
      const user = decodeURIComponent(target.username);
      const password = decodeURIComponent(target.password);
      headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      target.username = '';
      target.password = '';
    }
    let status: number;
    let text: string;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params }),
        signal: AbortSignal.timeout(timeoutSeconds * 1000),
        // fetch would send the token on to wherever a redirect points: with a token, the URL must be the final one.
        redirect: token ? 'error' : 'follow',
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new CheckInError('dead_mans_switch_client.errors.timeout', {
          url: shown,
          seconds: timeoutSeconds,
        });
      }
      throw new CheckInError('dead_mans_switch_client.errors.unreachable', {
        url: shown,
        reason: reasonOf(error),
      });
    }
    if (status < 200 || status >= 300) {
      throw new CheckInError('dead_mans_switch_client.errors.http_status', {
        url: shown,
        status,
        body: text.slice(0, 200),
      });
    }
    let answer: unknown = text.slice(0, MAX_ANSWER_CHARS);
    try {
      answer = JSON.parse(text);
    } catch {
      return answer;
    }
    const error = (answer as { error?: unknown } | null)?.error;
    if (error !== undefined && error !== null) {
      throw new CheckInError('dead_mans_switch_client.errors.rpc_error', {
        url: shown,
        message: rpcErrorMessage(error),
      });
    }
    return text.length > MAX_ANSWER_CHARS ? text.slice(0, MAX_ANSWER_CHARS) : answer;
  }
}

/** Odoo puts the real message in `error.data.message` and a generic "Odoo Server Error" in `error.message`. */
function rpcErrorMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, data } = error as { message?: unknown; data?: { message?: unknown } };
  const detail = typeof data?.message === 'string' ? data.message : undefined;
  const text = detail ?? (typeof message === 'string' ? message : JSON.stringify(error));
  return text.slice(0, 500);
}
