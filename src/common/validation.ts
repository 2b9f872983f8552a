import { applyDecorators, BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { plainToInstance, Transform, type TransformFnParams } from 'class-transformer';
import {
  getMetadataStorage,
  IsEmail,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  validate,
} from 'class-validator';
import type { I18nService } from '../i18n/i18n.service.js';

export interface FieldError {
  field: string;
  /** class-validator's constraint name (`isEmail`, `maxLength`, …), the translation key's last part. */
  constraint: string;
  /** The decorator's arguments (`[255]` for `@MaxLength(255)`), for the translated message. */
  args: unknown[];
  /** class-validator's English message, used when no translation exists. */
  fallback: string;
}

/** Thrown by the global ValidationPipe; the exception filter translates each field error. */
export class ValidationFailedException extends BadRequestException {
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((e) => e.fallback).join('; '));
  }
}

function constraintArgs(target: object | undefined, property: string, constraint: string): unknown[] {
  if (!target) return [];
  const metadata = getMetadataStorage()
    .getTargetValidationMetadatas(target.constructor, '', true, false)
    .find(
      (m) => m.propertyName === property && (m.name === constraint || m.constraintCls?.name === constraint),
    );
  return (metadata?.constraints as unknown[] | undefined) ?? [];
}

function collect(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, fallback]) => ({
      field,
      constraint,
      args: constraintArgs(error.target, error.property, constraint),
      fallback,
    }));
    return [...own, ...collect(error.children ?? [], field)];
  });
}

/** One field error in `lang`: the `core.validation.<constraint>` message, or class-validator's English one. */
export function fieldErrorMessage(
  i18n: I18nService,
  error: FieldError,
  lang: string,
  field = error.field,
): string {
  const key = `core.validation.${error.constraint}`;
  const args = { field, ...Object.fromEntries(error.args.map((a, i) => [`arg${i}`, String(a)])) };
  return i18n.has(key) ? i18n.t(key, lang, args) : error.fallback;
}

/**
 * Validates plain input with an API DTO, as the global pipe does (same transforms, same rules): for the input
 * that does not come through HTTP (the command line).
 */
export async function validateInput<T extends object>(
  dto: new () => T,
  plain: object,
): Promise<{ value: T; errors: FieldError[] }> {
  const value = plainToInstance(dto, plain);
  const errors = await validate(value, { whitelist: true, validationError: { target: true, value: false } });
  return { value, errors: collect(errors) };
}

export const validationPipe = () =>
  new ValidationPipe({
    whitelist: true,
    transform: true,
    // The target lets the filter find each constraint's arguments (the 255 of @MaxLength(255)).
    validationError: { target: true, value: false },
    exceptionFactory: (errors) => new ValidationFailedException(collect(errors)),
  });

const trim = ({ value }: TransformFnParams): unknown => (typeof value === 'string' ? value.trim() : value);
const trimToNull = ({ value }: TransformFnParams): unknown =>
  typeof value === 'string' ? value.trim() || null : value;

/**
 * A name (or any required short text): trimmed, refused when blank, refused when longer than `max` characters
 * (never cut, so that what is stored is what was typed). Each message names the field (and the maximum).
 */
export const Name = (max: number) =>
  applyDecorators(Transform(trim), IsString(), IsNotEmpty(), MaxLength(max));

/** A required free text (a message body, a comment): as a name, with a larger maximum. */
export const Text = Name;

/**
 * An optional free text (a description): trimmed; blank or null means none (stored as null, which clears it on
 * an update); longer than `max` characters is refused, never cut.
 */
export const OptionalText = (max: number) =>
  applyDecorators(Transform(trimToNull), IsOptional(), IsString(), MaxLength(max));

/** An e-mail address: surrounding spaces dropped, then checked (a host without a dot is allowed: `localhost`). */
export const EmailAddress = () =>
  applyDecorators(Transform(trim), IsEmail({ require_tld: false }), MaxLength(254));
