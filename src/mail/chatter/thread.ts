import type { EntityManager } from 'typeorm';
import type { Role } from '../../common/request-context.js';

/** A record addressed as a thread: Odoo-style model name and id. */
export interface ThreadRef {
  model: string;
  id: number;
}

/**
 * A text stored once, rendered in each reader's language when it has a key. An argument may itself be a
 * translatable text (rendered in the same language), and a list renders as its lines.
 */
export type Translatable =
  string | { key: string; args?: Record<string, string | number | null | Translatable> } | Translatable[];

export interface TrackingValueInput {
  field: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface TrackedField {
  /**
   * The entity property; `'*'` stands for the fields a thread logs itself that no other entry names (only its
   * `values` are used: the environment's check ids, whose statuses read translated).
   */
  field: string;
  /** Translation key of its label. */
  label: string;
  /**
   * How a value reads in the chatter: `'user'` reads a user id as the user's name; a function formats it itself;
   * `String(value)` by default.
   */
  format?: 'user' | ((value: unknown, manager: EntityManager) => Promise<string | null>);
  /**
   * Translation key prefix of its values (a selection such as a state): the value `active` reads as the text of
   * `<values>.active` in the reader's language. The stored value stays as it is (the API's `old_value`).
   */
  values?: string;
}

/** How core or an addon declares a thread model (manifest `threads`). */
export interface ThreadDefinition {
  /** `partner`, `dead_mans_switch.instance`. */
  model: string;
  /** Its TypeORM entity (the table holds the records, keyed by `id`). */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entity: Function;
  /** Display name of one record (e-mail subjects, inbox). */
  displayName(id: number, manager: EntityManager): Promise<string>;
  /** Display names of many records in one query (bulk posting); `displayName` per record otherwise. */
  displayNames?(ids: number[], manager: EntityManager): Promise<Map<number, string>>;
  /** Properties whose changes are logged as tracking values. */
  tracked?: TrackedField[];
  /** Property holding the responsible user's id: that user's partner is subscribed when it is set. */
  responsibleField?: string;
  /** Role needed to read the record, its messages and followers (default `viewer`). */
  readRole?: Role;
}

export const THREAD_DEFINITIONS = Symbol('THREAD_DEFINITIONS');

/** Core's and every addon's subtypes that the chatter itself relies on. */
export const MT_COMMENT = 'mail.mt_comment';
export const MT_NOTE = 'mail.mt_note';

/** A chatter subtype seeded by external id (see the chatter). */
export interface SubtypeSeed {
  /** External id, `<namespace>.<name>`, e.g. `dead_mans_switch.mt_instance_down`. */
  key: string;
  /** Translation key of its name. */
  name: string;
  /** Followers receive it unless they opt out. */
  default: boolean;
  /** The thread model it is about (Odoo's `res_model`): a default only for followers of that model. */
  model?: string;
  /** Only users see it. */
  internal: boolean;
}
