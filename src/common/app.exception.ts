import { HttpException, HttpStatus } from '@nestjs/common';
import type { TranslationArgs } from '../i18n/i18n.service.js';

/** An error whose message is a translation key, rendered in the caller's language by the exception filter. */
export class AppException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly key: string,
    readonly args: TranslationArgs = {},
  ) {
    super(key, status);
  }
}

/** An error about one field of the input: the API lists it in `errors`, a web form shows it next to the field. */
export class FieldException extends AppException {
  constructor(
    readonly field: string,
    key: string,
    args: TranslationArgs = {},
    status: HttpStatus = HttpStatus.UNPROCESSABLE_ENTITY,
  ) {
    super(status, key, args);
  }
}

export const fieldError = (field: string, key: string, args?: TranslationArgs) =>
  new FieldException(field, key, args);

export const notFound = (model: string, id: string | number) =>
  new AppException(HttpStatus.NOT_FOUND, 'core.errors.not_found', { model, id });
export const forbidden = () => new AppException(HttpStatus.FORBIDDEN, 'core.errors.forbidden');
export const badRequest = (key: string, args?: TranslationArgs) =>
  new AppException(HttpStatus.BAD_REQUEST, key, args);
export const conflict = (key: string, args?: TranslationArgs) =>
  new AppException(HttpStatus.CONFLICT, key, args);
