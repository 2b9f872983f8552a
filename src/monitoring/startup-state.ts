import { Injectable } from '@nestjs/common';

/** Set by the bootstrap once migrations, seed data and environment validation are done. */
@Injectable()
export class StartupState {
  validated = false;
  /** The last environment report has a `fail` and CLOUD_PLATFORM_UNSAFE is not set. */
  environmentFailing = false;
}
