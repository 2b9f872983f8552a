/** Where progress goes: a terminal (one line rewritten in place) or a log (a plain line now and then). */
export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

const MIB = 1024 * 1024;

/** `12.3 MiB, 4.1 MiB/s, 00:03`: bytes so far, mean rate and elapsed time. */
export function describeProgress(bytes: number, elapsedMs: number): string {
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  const elapsed = Math.floor(seconds);
  const clock = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}`;
  return `${(bytes / MIB).toFixed(1)} MiB, ${(bytes / MIB / seconds).toFixed(1)} MiB/s, ${clock}`;
}

/**
 * The progress of a long command (`backup:run`, `backup:restore`): on a terminal a line redrawn at most ten times
 * a second; otherwise a plain line every `plainEveryMs`, so that logs stay readable.
 */
export class ProgressLine {
  private readonly started = performance.now();
  private lastDraw = -Infinity;
  private bytes = 0;

  constructor(
    private readonly label: string,
    private readonly output: ProgressOutput,
    private readonly plainEveryMs = 5000,
  ) {}

  update(bytes: number): void {
    this.bytes = bytes;
    const now = performance.now();
    if (now - this.lastDraw < (this.output.isTTY ? 100 : this.plainEveryMs)) return;
    this.lastDraw = now;
    this.draw();
  }

  /** Draws the final figures and ends the terminal line. */
  end(): void {
    this.draw();
    if (this.output.isTTY) this.output.write('\n');
  }

  private draw(): void {
    const text = `${this.label}: ${describeProgress(this.bytes, performance.now() - this.started)}`;
    this.output.write(this.output.isTTY ? `\r\x1b[K${text}` : `${text}\n`);
  }
}
