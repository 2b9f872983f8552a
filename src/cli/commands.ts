import type { INestApplicationContext } from '@nestjs/common';

/** A CLI command beyond core's own; each entry is wired by `src/cli/main.ts`. */
export interface CliCommand {
  name: string;
  description: string;
  options?: [flags: string, description: string][];
  /** Returns the exit code. */
  run(app: INestApplicationContext, options: Record<string, unknown>): Promise<number>;
}

export const CLI_COMMANDS: CliCommand[] = [];
