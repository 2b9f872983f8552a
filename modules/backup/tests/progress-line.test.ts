import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeProgress, ProgressLine } from '../progress-line.js';

describe('CLI progress line', () => {
  it('describes bytes, rate and elapsed time', () => {
    assert.equal(describeProgress(10 * 1024 * 1024, 2500), '10.0 MiB, 4.0 MiB/s, 00:02');
    assert.equal(describeProgress(0, 125_000), '0.0 MiB, 0.0 MiB/s, 02:05');
  });

  it('redraws one line on a terminal and prints plain lines elsewhere', () => {
    const tty: string[] = [];
    const terminal = new ProgressLine('dumped', { isTTY: true, write: (t: string) => tty.push(t) });
    terminal.update(1024 * 1024);
    terminal.end();
    assert.ok(tty.slice(0, -1).every((t) => t.startsWith('\r\x1b[Kdumped: ')));
    assert.equal(tty.at(-1), '\n');

    const log: string[] = [];
    const plain = new ProgressLine('dumped', { isTTY: false, write: (t: string) => log.push(t) }, 60_000);
    plain.update(1);
    plain.update(2); // within the minute: not printed
    plain.end();
    assert.equal(log.length, 2);
    assert.ok(log.every((t) => /^dumped: \d+\.\d MiB, [\d.]+ MiB\/s, \d\d:\d\d\n$/.test(t)));
  });
});
