export { createStripeClient, createStripeGateway } from './stripe-gateway';
export type {
  StripeGateway,
  GatewayOptions,
  StripeClientOptions,
  CheckoutSession,
  SetupIntent,
  PaymentMethod,
  Customer,
  NewCustomer,
  NewSetupCheckout,
  NewOffSessionPayment,
  NewRefund,
  NewCard,
  NewConfirmedSetup,
  NewChallengedAuthorization,
  NewCapture,
  PaymentIntent,
  Refund,
  StripeEvent,
} from './stripe-gateway';
export { toAppError } from './stripe-errors';
export { stripeOperation } from './stripe-calls';
export type { StripeCall, StripeCallObserver } from './stripe-calls';
export type { CardDataField } from './stripe-errors';
export { createStripeAccounts, keyedAccount } from './stripe-accounts';
export type { StripeAccounts, StripeDoor, StripeAccountStore, KeyedAccount } from './stripe-accounts';
export {
  observeCheckoutSession,
  observeSetupIntent,
  observePaymentIntent,
  observeRefund,
  observeConfirmedSetup,
  observeAuthorization,
  stripeId,
} from './stripe-status';
export type {
  ObservedSetup,
  CardDetails,
  ObservedPayment,
  ObservedRefund,
  ChargeStatus,
  ObservedConfirmedSetup,
  ObservedAuthorization,
  ThreeDSecureOutcome,
} from './stripe-status';
export type { NamedDoors, StripeEventHandler } from './webhook-routes';
