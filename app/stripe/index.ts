export { createStripeClient, createStripeGateway, STRIPE_API_VERSION } from './stripe-gateway';
export type { StripeGateway, StripeClientOptions, CheckoutSession, SetupIntent, PaymentMethod, Customer, NewCustomer, NewSetupCheckout } from './stripe-gateway';
export { toAppError } from './stripe-errors';
export { observeCheckoutSession, observeSetupIntent, assertNever } from './stripe-status';
export type { ObservedSetup, CardDetails } from './stripe-status';
