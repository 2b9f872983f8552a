/** One setting of a channel, as the API accepts it. */
export interface ChannelSettingSpec {
  name: string;
  required: boolean;
  /** Never returned by the API nor logged (masked). */
  secret?: boolean;
  /** An http(s) URL, checked against the address policy when saved and at each send (SSRF). */
  url?: boolean;
  /** The value must match (e.g. an ntfy topic). */
  pattern?: RegExp;
  /** Used when the setting is left out. */
  default?: string;
}

/** What a channel sends: one notification rendered in its recipient's language. */
export interface ChannelMessage {
  /** The notification's id: stable across retries, the `Idempotency-Key`. */
  id: string;
  createdAt: string;
  subject: string;
  /** The body as plain text, tracking values included. */
  text: string;
  author: string | null;
  subtype: string | null;
  record: { model: string; id: number; name: string | null } | null;
  /** Where the record can be read, when `web.base_url` is set. */
  link: string | null;
  /** Values as stored (`old_value`, `new_value`) and in the recipient's language (`old_text`, `new_text`). */
  tracking: {
    field: string;
    label: string;
    old_value: string | null;
    new_value: string | null;
    old_text?: string | null;
    new_text?: string | null;
  }[];
  /** Sent by the "send a test" action, not by a message. */
  test: boolean;
  /** Links for this recipient (an incident's "Acknowledge"), labels in the recipient's language. */
  actions?: { label: string; url: string }[];
}

export interface ChannelRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** How a channel's failed tries are retried: 429, 5xx and timeouts only. */
export interface RetryPolicy {
  maxAttempts: number;
  /** First delay when the receiver gives no `Retry-After`; doubled after each failure. */
  backoffSeconds: number;
  /** Longest one request may take, connection to last byte. */
  timeoutSeconds: number;
}

/**
 * A way to reach someone: a small class that turns a notification into one HTTP request. It does no I/O (the
 * dispatcher sends the request through the HTTP repository, with the address checks), so an addon adds a channel
 * by listing an instance in its manifest's `channels`.
 */
export interface AlertChannel {
  /** Unique, lower case: `webhook`, `slack`… Stored on the subscription and the notification row. */
  readonly kind: string;
  readonly settings: readonly ChannelSettingSpec[];
  readonly retry?: Partial<RetryPolicy>;
  request(message: ChannelMessage, settings: Readonly<Record<string, string>>, now: Date): ChannelRequest;
  /** A 2xx answer that still is a refusal (Pushover's `status: 0`): the error to show, else undefined. */
  refusal?(status: number, body: string): string | undefined;
}

/** The title and text most chat channels show. */
export function summary(message: ChannelMessage): { title: string; lines: string[] } {
  const lines = message.text ? [message.text] : [];
  for (const t of message.tracking) {
    const [from, to] = [t.old_text ?? t.old_value, t.new_text ?? t.new_value];
    lines.push(`${t.label}: ${from ?? '—'} → ${to ?? '—'}`);
  }
  for (const action of message.actions ?? []) lines.push(`${action.label}: ${action.url}`);
  if (message.author) lines.push(`— ${message.author}`);
  return { title: message.subject, lines };
}
