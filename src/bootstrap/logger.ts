import type { LoggerService } from '@nestjs/common';
import {
  pino,
  stdSerializers,
  type DestinationStream,
  type Level,
  type Logger,
  type LoggerOptions,
} from 'pino';
import type { AppConfig } from '../config/app-config.js';

/**
 * The application's one pino logger. `LOG_FORMAT=pretty` (dev) prints through pino-pretty, one short line per
 * entry (time, level, message); `json` writes one JSON object per line to stdout. `destination` replaces stdout
 * (tests read what was logged).
 */
export function createRootLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    // Lines carry what remote parties wrote (paths, probe output, SMTP and channel errors): escaped, so that a
    // line cannot be forged, split or paint the operator's terminal.
    serializers: {
      msg: escapeControl,
      err: (error: Error) => escapeFields({ ...stdSerializers.err(error) }),
    },
    formatters: { log: (fields) => escapeFields(fields) },
  };
  if (destination) return pino(options, destination);
  if (config.logFormat === 'pretty')
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        // The request line's fields are in its message already.
        options: { singleLine: true, ignore: 'pid,hostname,req,res,responseTime,context' },
      },
    });
  return pino(options);
}

/**
 * Control characters (C0, DEL, C1: newlines, carriage returns, ANSI escape sequences), Unicode line separators and
 * bidirectional overrides, which could split a log line, forge one or recolour a terminal.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeOne = (char: string) => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with every control character written as its escape (`\n`, `\u001b`): what a log line may show. */
export function escapeControl(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  CONTROL.lastIndex = 0;
  return CONTROL.test(text) ? text.replace(CONTROL, escapeOne) : text;
}

/** A stack's own line breaks stay; its first lines hold the message, escaped in full. */
function escapeStack(stack: string, message: unknown): string {
  const head = typeof message === 'string' && message && stack.includes(message) ? message : '';
  const escaped = head ? stack.replace(head, escapeControl(head) as string) : stack;
  return escaped.replace(CONTROL, (char) => (char === '\n' ? char : escapeOne(char)));
}

/** A log line's fields with their strings escaped, a few levels deep (nobody logs deeper objects). */
function escapeFields<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return escapeControl(value) as T;
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => escapeFields(item, depth + 1)) as T;
  // Errors go through the `err` serializer; dates, buffers and other instances keep their own JSON.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const fields = value as Record<string, unknown>;
  const escaped: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const field = fields[key];
    escaped[key] =
      key === 'stack' && typeof field === 'string'
        ? escapeStack(field, fields.message)
        : escapeFields(field, depth + 1);
  }
  return escaped as T;
}

/**
 * Nest's logger (`new Logger('Context')` everywhere, and Nest's own messages) written through pino. Nest passes
 * the context as the last argument and, for errors, the stack before it.
 */
const QUIET_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    // Nest's start-up chatter (a line per module, controller and route, ~150 in all, and its "started" before the
    // environment checks ran) is for debugging; Vigil says itself what it loaded and when it is started.
    const context = params[params.length - 1];
    this.write(
      typeof context === 'string' && QUIET_CONTEXTS.has(context) ? 'debug' : 'info',
      message,
      params,
    );
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    const rest = [...params];
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string') fields.context = rest.pop();
    if (level === 'error' && typeof rest[0] === 'string') fields.stack = rest.shift();
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
