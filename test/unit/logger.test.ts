import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createRootLogger, PinoNestLogger } from '../../src/bootstrap/logger.js';
import { loadConfig } from '../../src/config/app-config.js';

/** Core's logger writing JSON lines into an array, with Nest's Logger on top (as every service logs). */
function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const root = createRootLogger(loadConfig({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }), sink);
  const nest = new PinoNestLogger(root);
  return { lines, root, nest };
}

// What a remote party may put in an SMTP answer, a probe's banner or a channel's error body: a forged JSON line
// after a line break, ANSI escapes that clear the screen and recolour, a bare carriage return, a bidi override.
const HOSTILE =
  'HTTP 400: nope\r\n{"level":30,"msg":"admin logged in"}\n\u001b[2J\u001b[31mRED\u001b[0m\rover\u0085\u2028\u202eevil\u0000';

/** No character a terminal or a line-based log reader would act on. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('core logger: control characters from remote input (issue 22)', () => {
  it('escapes them in messages, fields and errors, so that one entry stays one readable line', () => {
    const { lines, root, nest } = capture();
    nest.warn(`Notification 7 failed: ${HOSTILE}`, 'ChannelDelivery');
    nest.error(new Error(`SMTP said: ${HOSTILE}`), undefined, 'NotificationDispatcher');
    root.warn({ probe: { output: HOSTILE, lines: [HOSTILE] }, at: new Date(0) }, 'probe %s', HOSTILE);
    assert.equal(lines.length, 3, 'three entries, three lines: nothing split them');
    const [warn, error, probe] = lines.map((line) => JSON.parse(line) as Record<string, any>);
    assert.equal(
      warn.msg,
      'Notification 7 failed: HTTP 400: nope\\r\\n{"level":30,"msg":"admin logged in"}\\n\\u001b[2J\\u001b[31mRED\\u001b[0m\\rover\\u0085\\u2028\\u202eevil\\u0000',
    );
    assert.equal(warn.context, 'ChannelDelivery');
    assert.doesNotMatch(error.msg as string, CONTROL);
    assert.doesNotMatch(error.err.message as string, CONTROL);
    // The stack keeps its own line breaks between frames; the message inside it is escaped in full.
    const stack = error.err.stack as string;
    assert.ok(stack.startsWith(`Error: SMTP said: HTTP 400: nope\\r\\n{"level":30`), stack.slice(0, 80));
    assert.doesNotMatch(stack.split('\n')[0], CONTROL);
    assert.match(stack, /\n\s+at /, 'frames stay one per line');
    assert.doesNotMatch(probe.msg as string, CONTROL);
    assert.doesNotMatch(probe.probe.output as string, CONTROL);
    assert.doesNotMatch(probe.probe.lines[0] as string, CONTROL);
    assert.equal(probe.at, '1970-01-01T00:00:00.000Z', 'dates keep their JSON form');
  });

  it('leaves ordinary text, accents and emoji as they are', () => {
    const { lines, nest } = capture();
    nest.log('Sauvegarde « quotidienne » réussie ✅ in 3 s', 'Backup');
    assert.equal(JSON.parse(lines[0]).msg, 'Sauvegarde « quotidienne » réussie ✅ in 3 s');
  });
});
