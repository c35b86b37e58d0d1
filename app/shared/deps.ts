import type { Config } from '../../config';
import type { Db } from '../db';
import type { Metrics } from '../metrics';
import type { StripeAccounts } from '../stripe';
import type { Clock } from './clock';
import type { Logger } from './logger';

/** What every service function receives: one object, no container. */
export interface Deps {
  db: Db;
  /** The door to each Stripe account; a row's door is `forAccount(row.stripeAccount)`. */
  stripeAccounts: StripeAccounts;
  clock: Clock;
  logger: Logger;
  config: Config;
  /** This instance's metrics (its own registry). */
  metrics: Metrics;
}
