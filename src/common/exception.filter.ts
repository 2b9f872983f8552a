import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ExceptionFilter,
} from '@nestjs/common';
import { isDatabaseUnavailable } from '../database/database-unavailable.js';
import { I18nService } from '../i18n/i18n.service.js';
import { AppException, FieldException } from './app.exception.js';
import { headersSent, sendJson, setHeader, type AnyReply } from './http-reply.js';
import type { VigilRequest } from './request-context.js';
import { fieldErrorMessage, ValidationFailedException } from './validation.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  errors?: { field: string; message: string }[];
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Body-parser errors (too large, malformed JSON) reach us as plain errors carrying a status (and Fastify's as `statusCode`). */
interface ParserError {
  status?: number;
  statusCode?: number;
  type?: string;
  /** The limit a too-large body exceeded, in bytes. */
  limit?: number;
}

/** Seconds a client is told to wait (`Retry-After`) while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Every error leaves as `{statusCode, error, message[, errors]}`, in the caller's language. */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(private readonly i18n: I18nService) {}

  /** Renders an error body; addons with their own wire format (JSON-RPC) reuse it. */
  render(exception: unknown, lang: string): ErrorBody {
    const status = this.statusOf(exception);
    const error = REASONS[status] ?? 'Error';
    if (exception instanceof ValidationFailedException) {
      const errors = exception.fieldErrors.map((e) => ({
        field: e.field,
        message: fieldErrorMessage(this.i18n, e, lang),
      }));
      return { statusCode: status, error, message: errors.map((e) => e.message).join('; '), errors };
    }
    if (exception instanceof FieldException) {
      const message = this.i18n.t(exception.key, lang, exception.args);
      return { statusCode: status, error, message, errors: [{ field: exception.field, message }] };
    }
    if (exception instanceof AppException) {
      return { statusCode: status, error, message: this.i18n.t(exception.key, lang, exception.args) };
    }
    // Nest wraps body-parser errors in an HttpException whose cause is the original.
    const parser = (exception instanceof HttpException ? exception.cause : exception) as
      ParserError | undefined;
    if (parser?.type === 'entity.too.large') {
      return {
        statusCode: status,
        error,
        message: this.i18n.t('core.errors.too_large', lang, { max: parser.limit }),
      };
    }
    if (parser?.type === 'entity.parse.failed') {
      return { statusCode: status, error, message: this.i18n.t('core.errors.malformed_json', lang) };
    }
    if (status === 503 && isDatabaseUnavailable(exception)) {
      return { statusCode: status, error, message: this.i18n.t('core.errors.database_unavailable', lang) };
    }
    if (exception instanceof HttpException) {
      const key = `core.errors.http_${status}`;
      const response = exception.getResponse();
      const own = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      const message = this.i18n.has(key) ? this.i18n.t(key, lang) : typeof own === 'string' ? own : error;
      return { statusCode: status, error, message };
    }
    return { statusCode: status, error, message: this.i18n.t('core.errors.internal', lang) };
  }

  statusOf(exception: unknown): number {
    if (exception instanceof HttpException) return exception.getStatus();
    if (isDatabaseUnavailable(exception)) return HttpStatus.SERVICE_UNAVAILABLE;
    const status = (exception as ParserError)?.status ?? (exception as ParserError)?.statusCode;
    return typeof status === 'number' && status >= 400 && status < 600
      ? status
      : HttpStatus.INTERNAL_SERVER_ERROR;
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<VigilRequest>();
    const response = http.getResponse<AnyReply>();
    const lang =
      request.lang ?? this.i18n.negotiate(request.headers['accept-language']) ?? request.user?.lang ?? 'en';
    const body = this.render(exception, lang);
    const unavailable = body.statusCode === 503 && isDatabaseUnavailable(exception);
    if (unavailable) {
      // An outage is one condition, not an error per request: a short line, no stack.
      this.logger.warn(
        `Database unavailable: ${exception instanceof Error ? exception.message : String(exception)}`,
      );
      if (!headersSent(response)) setHeader(response, 'Retry-After', DATABASE_RETRY_AFTER_SECONDS);
    } else if (body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    }
    if (!headersSent(response)) sendJson(response, body.statusCode, body);
  }
}
