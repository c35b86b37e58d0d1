import type { Config } from '../../config';
import type { Db } from '../db';
import type { StripeGateway } from '../stripe';
import type { Clock } from './clock';
import type { Logger } from './logger';

/** What every service function receives: one object, no container. */
export interface Deps {
  db: Db;
  stripe: StripeGateway;
  clock: Clock;
  logger: Logger;
  config: Config;
}
