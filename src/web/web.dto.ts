import { Transform } from 'class-transformer';
import {
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { EmailAddress, Name, OptionalText, Text } from '../common/validation.js';
import { ROLES, type Role } from '../users/user.entity.js';

/** An empty (or blank) form field means "none"; surrounding spaces are dropped. */
const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim() || undefined : value;
/** A number field of a form: empty means `none` (undefined: any, null: clear); anything else must be a number. */
const optionalNumber =
  (none: null | undefined) =>
  ({ value }: { value: unknown }) =>
    value === '' || value === undefined || value === null
      ? none
      : typeof value === 'string'
        ? Number(value)
        : value;
/** A checkbox group arrives as one string or several. */
const toArray = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

export class LoginFormDto {
  @IsEmail({ require_tld: false })
  @MaxLength(254)
  email: string;

  @IsString()
  @MaxLength(200)
  password: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

/** A form that sends the browser back to the page it came from (a path under /web, checked). */
export class BackFormDto {
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

export class PostMessageFormDto extends BackFormDto {
  @Text(20_000)
  body: string;

  @IsOptional()
  @IsIn(['comment', 'note'])
  type?: 'comment' | 'note';
}

export class AddFollowerFormDto extends BackFormDto {
  @IsOptional()
  @Transform(optionalNumber(undefined))
  @IsInt()
  @Min(1)
  partner_id?: number;

  @IsOptional()
  @Transform(toArray)
  @IsArray()
  @IsString({ each: true })
  subtypes?: string[];
}

export class PartnerFormDto {
  @Name(200)
  name: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsEmail({ require_tld: false })
  @MaxLength(254)
  email?: string;

  /** Empty clears it. */
  @OptionalText(50)
  phone?: string | null;

  /** The account manager; empty clears it. */
  @IsOptional()
  @Transform(optionalNumber(undefined))
  @IsInt()
  @Min(1)
  user_id?: number;
}

export class ContactFormDto {
  @Name(200)
  name: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsEmail({ require_tld: false })
  @MaxLength(254)
  email?: string;
}

export class UserFormDto {
  @IsOptional()
  @Transform(toArray)
  @IsArray()
  @IsIn(ROLES, { each: true })
  roles?: Role[];

  @IsOptional()
  @IsIn(['true', 'false'])
  active?: 'true' | 'false';
}

export class NewUserFormDto {
  @EmailAddress()
  email: string;

  @Name(200)
  name: string;

  @IsString()
  @MinLength(8)
  @MaxLength(200)
  password: string;

  @IsOptional()
  @Transform(toArray)
  @IsArray()
  @IsIn(ROLES, { each: true })
  roles?: Role[];
}

export class PasswordFormDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  current_password: string;

  @IsString()
  @MinLength(8)
  @MaxLength(200)
  new_password: string;
}

export class ApiKeyFormDto {
  @Name(100)
  name: string;
}

export class SettingFormDto {
  @IsString()
  @MaxLength(200)
  key: string;

  /** Absent when a secret setting is cleared (its password field is left empty). */
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  value?: string;

  /** A secret setting's "Clear" button: stores none. */
  @IsOptional()
  @IsIn(['1'])
  clear?: string;
}

export class PreferencesFormDto {
  @IsString()
  @MaxLength(10)
  lang: string;

  /** Empty: the browser's. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  time_zone?: string;
}
