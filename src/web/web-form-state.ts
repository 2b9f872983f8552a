import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { VigilRequest } from '../common/request-context.js';

/** What a refused form left behind for its page: the message, each field's problems and the typed values. */
export interface WebFormState {
  /** The form's `_form` field: which form of the page was refused (pages may hold several). */
  id: string;
  status: number;
  message: string;
  /** Field → its messages, one per problem. */
  errors: Record<string, string[]>;
  /** What the visitor typed (passwords and the CSRF token left out). */
  values: Record<string, unknown>;
}

/** Header of the internal GET that re-renders a refused form's page; its value names a state held here. */
export const FORM_STATE_HEADER = 'x-vigil-form-state';

const SECRET_FIELD = /password|^_csrf$|secret|token/i;

/**
 * Hands a refused form's state to the re-rendering of its page: the exception filter stores it under a random
 * key and asks for the page with that key; the page takes it once. A key nobody took is gone after a minute.
 */
@Injectable()
export class WebFormStates {
  private readonly states = new Map<string, { state: WebFormState; expires: number }>();

  put(state: WebFormState): string {
    const now = Date.now();
    for (const [key, held] of this.states) if (held.expires < now) this.states.delete(key);
    const key = randomUUID();
    this.states.set(key, { state, expires: now + 60_000 });
    return key;
  }

  /** The state a re-rendering request carries, taken once. */
  take(request: VigilRequest): WebFormState | undefined {
    const key = request.headers[FORM_STATE_HEADER];
    if (typeof key !== 'string') return undefined;
    const held = this.states.get(key);
    this.states.delete(key);
    return held?.state;
  }
}

/** The values of a posted form worth showing again. */
export function keptValues(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(Object.entries(body).filter(([name]) => !SECRET_FIELD.test(name)));
}
