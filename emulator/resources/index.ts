/** Every /v1 route. A new resource adds its module here. */
import type { ApiRoute } from '../api-routes';
import { accountRoutes } from './accounts';
import { balanceRoutes } from './balance';
import { checkoutSessionRoutes } from './checkout-sessions';
import { chargeRoutes } from './charges';
import { customerRoutes } from './customers';
import { ephemeralKeyRoutes } from './ephemeral-keys';
import { eventRoutes } from './events';
import { authorizationRoutes } from './authorizations';
import { paymentIntentRoutes } from './payment-intents';
import { paymentMethodCreateRoutes } from './payment-method-create';
import { paymentMethodRoutes } from './payment-methods';
import { refundRoutes } from './refunds';
import { setupIntentRoutes } from './setup-intents';
import { webhookEndpointRoutes } from './webhook-endpoints';

export const apiRoutes: readonly ApiRoute[] = [
  ...accountRoutes,
  ...customerRoutes,
  ...checkoutSessionRoutes,
  ...setupIntentRoutes,
  ...paymentMethodCreateRoutes,
  ...paymentMethodRoutes,
  ...paymentIntentRoutes,
  ...authorizationRoutes,
  ...chargeRoutes,
  ...refundRoutes,
  ...eventRoutes,
  ...webhookEndpointRoutes,
  ...ephemeralKeyRoutes,
  ...balanceRoutes,
];
