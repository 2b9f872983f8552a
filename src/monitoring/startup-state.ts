import { Injectable } from '@nestjs/common';

/** What `/monitoring/ready` reports besides the database. */
@Injectable()
export class StartupState {
  /**
   * Set by the bootstrap once the start is done: migrations, the environment checks (when they run; a fail ends the
   * start unless CLOUD_PLATFORM_UNSAFE) and seed data.
   */
  started = false;
  /** The last environment report has a `fail` and CLOUD_PLATFORM_UNSAFE is not set. */
  environmentFailing = false;
}
