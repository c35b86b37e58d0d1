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
  PaymentIntent,
  Refund,
  StripeEvent,
} from './stripe-gateway';
export { toAppError } from './stripe-errors';
export { createStripeAccounts, keyedAccount } from './stripe-accounts';
export type { StripeAccounts, StripeDoor, StripeAccountStore, KeyedAccount } from './stripe-accounts';
export { observeCheckoutSession, observeSetupIntent, observePaymentIntent, observeRefund, stripeId } from './stripe-status';
export type { ObservedSetup, CardDetails, ObservedPayment, ObservedRefund, ChargeStatus } from './stripe-status';
