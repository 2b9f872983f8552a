import { parseDatabaseUuid, type PayloadError } from '../checkin/alive-payload.js';
import { EVENT_LEVEL_NAMES, type EventLevel } from '../instance-event.entity.js';
import { MAX_EVENT_MESSAGE } from '../settings.js';

/** An event as an instance sends it, validated. */
export interface IncomingEvent {
  databaseUuid: string;
  level: EventLevel;
  message: string;
}

const fail = (key: string, args: Record<string, string | number> = {}) => ({ error: { key, args } });

/** Validates `{database_uuid, level, message}`; unknown keys are ignored. */
export function parseEvent(input: unknown): { event: IncomingEvent } | { error: PayloadError } {
  const identified = parseDatabaseUuid(input);
  if ('error' in identified) return identified;
  const { params, databaseUuid } = identified;
  const level = typeof params.level === 'string' ? params.level.trim().toLowerCase() : undefined;
  if (!level || !(EVENT_LEVEL_NAMES as string[]).includes(level))
    return fail('dead_mans_switch_server.errors.not_a_level', { levels: EVENT_LEVEL_NAMES.join(', ') });
  const message = params.message;
  // PostgreSQL text cannot hold NUL: refused here rather than failing the insert.
  if (
    typeof message !== 'string' ||
    message.trim() === '' ||
    message.length > MAX_EVENT_MESSAGE ||
    message.includes('\u0000')
  )
    return fail('dead_mans_switch_server.errors.not_a_message', { max: MAX_EVENT_MESSAGE });
  return { event: { databaseUuid, level: level as EventLevel, message: message.trim() } };
}
