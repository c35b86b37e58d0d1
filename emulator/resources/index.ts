/** Every /v1 route. A new resource (PaymentIntents, refunds, events...) adds its module here. */
import type { ApiRoute } from '../api-routes';
import { balanceRoutes } from './balance';
import { checkoutSessionRoutes } from './checkout-sessions';
import { customerRoutes } from './customers';
import { ephemeralKeyRoutes } from './ephemeral-keys';
import { paymentMethodRoutes } from './payment-methods';
import { setupIntentRoutes } from './setup-intents';

export const apiRoutes: readonly ApiRoute[] = [
  ...customerRoutes,
  ...checkoutSessionRoutes,
  ...setupIntentRoutes,
  ...paymentMethodRoutes,
  ...ephemeralKeyRoutes,
  ...balanceRoutes,
];
