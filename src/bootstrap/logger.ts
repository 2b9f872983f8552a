import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import type { AppConfig } from '../config/app-config.js';

/**
 * The application's one pino logger. `LOG_FORMAT=pretty` (dev) prints through pino-pretty, one short line per
 * entry (time, level, message); `json` writes one JSON object per line to stdout. `destination` replaces stdout
 * (tests read what was logged).
 */
export function createRootLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const options = { level: config.logLevel };
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
