import type { CliCommand } from '../../src/index.js';
import { CheckInError } from './check-in.error.js';
import { DeadMansSwitchClientService } from './dead-mans-switch-client.service.js';

/**
 * `npx vigil dms:start`: tells the server a job run starts (job-run timing); the next check-in (`dms:alive`, or
 * the schedule's) ends it. For a job wrapped as `npx vigil dms:start && job && npx vigil dms:alive`.
 */
export const dmsStartCommand: CliCommand = {
  name: 'dms:start',
  description: "tell the dead man's switch server that a job run starts (the next check-in ends it)",
  async run(app) {
    try {
      const outcome = await app.get(DeadMansSwitchClientService, { strict: false }).sendStart();
      console.log(`Run start told to ${outcome.url}`);
      console.log(`Answer: ${JSON.stringify(outcome.answer)}`);
      return 0;
    } catch (error) {
      if (!(error instanceof CheckInError)) throw error;
      console.error(`Start failed: ${error.message}`);
      return 1;
    }
  },
};
