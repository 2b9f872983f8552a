import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';

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

export const validationPipe = () =>
  new ValidationPipe({
    whitelist: true,
    transform: true,
    // The target lets the filter find each constraint's arguments (the 255 of @MaxLength(255)).
    validationError: { target: true, value: false },
    exceptionFactory: (errors) => new ValidationFailedException(collect(errors)),
  });
