import { Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files probe secrets depend on (only repositories do I/O). */
@Injectable()
export class ProbeSecretsRepository {
  /** The secret core generated in DATA_DIR/session-secret when SESSION_SECRET is not set. */
  generatedSessionSecret(dataDir: string): string {
    return readFileSync(join(dataDir, 'session-secret'), 'utf8').trim();
  }
}
