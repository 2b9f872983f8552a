import type { CliCommand } from '../../src/index.js';
import { CheckInError } from './check-in.error.js';
import { DeadMansSwitchClientService } from './dead-mans-switch-client.service.js';

/** `npx vigil dms:alive`: one check-in now; prints what was sent and the server's answer. */
export const dmsAliveCommand: CliCommand = {
  name: 'dms:alive',
  description: "send one check-in to the dead man's switch server now and print its answer",
  async run(app) {
    try {
      const outcome = await app.get(DeadMansSwitchClientService, { strict: false }).sendNow();
      console.log(`Checked in with ${outcome.url}`);
      console.log(`Sent: ${JSON.stringify(outcome.sent)}`);
      console.log(`Answer: ${JSON.stringify(outcome.answer)}`);
      return 0;
    } catch (error) {
      if (!(error instanceof CheckInError)) throw error;
      console.error(`Check-in failed: ${error.message}`);
      return 1;
    }
  },
};
