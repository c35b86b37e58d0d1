/** The account balance, used by health checks. Always zero: the emulator keeps no ledger of balance transactions. */
import type Stripe from 'stripe';
import { defineRoute, type ApiRoute } from '../api-routes';
import { p } from '../params';

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/balance',
  params: { expand: p.expand() },
  handle: () => {
    const balance: Stripe.Balance = {
      object: 'balance',
      available: [{ amount: 0, currency: 'usd', source_types: { card: 0 } }],
      livemode: false,
      pending: [{ amount: 0, currency: 'usd', source_types: { card: 0 } }],
    };
    return { body: balance };
  },
});

export const balanceRoutes: ApiRoute[] = [retrieve];
