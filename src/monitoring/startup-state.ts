import { Injectable } from '@nestjs/common';

/** Set by the bootstrap once migrations, seed data and environment validation are done. */
@Injectable()
export class StartupState {
  validated = false;
}
