export { createStripeClient, createStripeGateway, STRIPE_API_VERSION } from './stripe-gateway';
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
export { observeCheckoutSession, observeSetupIntent, observePaymentIntent, observeRefund, assertNever } from './stripe-status';
export type { ObservedSetup, CardDetails, ObservedPayment, ObservedRefund, ChargeStatus } from './stripe-status';
