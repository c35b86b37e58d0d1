// The payments core's use cases: what an owner's front end (a billing system, the merchant API), the Stripe
// webhook route and the process entry point may call. Repositories stay inside.
export { createMappedCustomer, replaceGoneCustomer, setCustomerLanguages } from './customer-service';
export type { CustomerDetails } from './customer-service';
export type { Customer } from './customer-repository';
export type { CustomerKey } from './customer-key';
export {
  cancelCardSetup,
  checkoutSide,
  confirmCardSetup,
  readCardSetup,
  readCardSetupByAttachedRow,
  saveCardOffSession,
  setupIntentSide,
  startCardSetup,
} from './card-setup-service';
export type { CardSetupStart, CheckoutSetup, OffSessionSetup, SetupIntentSetup, SetupToOpen, StripeSide } from './card-setup-service';
export type { AttachedRow, CardSetup, CardSetupState } from './card-setup-repository';
export type { SetupOutcome } from './card-setup-state';
export type { SavedCard } from './card-repository';
export { captureAuthorization, chargeSavedCard, readCharge } from './charge-service';
export type { CaptureRequest, ChargeRequest } from './charge-service';
export { authorizeWithChallenge, readAuthorization } from './authorization-service';
export type { Authorization, AuthorizationRequest } from './authorization-service';
export type { Channel, Charge } from './charge-repository';
export { describeAuthentication, finishAuthentication, startAuthentication } from './charge-authentication';
export type { AuthenticationStep } from './charge-authentication';
export { listRefunds, readRefund, refundCharge } from './refund-service';
export type { RefundRequest, RefundResult } from './refund-service';
export type { Refund } from './refund-repository';
export { HANDLED_STRIPE_EVENTS, handleStripeEvent } from './webhook-service';
export type { StripeEventObserver, WebhookResult } from './webhook-service';
export { CHECK_FAILURES_ALERT, reconcileOnce, recheckRow, startReconciler } from './reconciler';
export type { ReconcileReport, ReconcilerHandle, RecheckTable } from './reconciler';
export { CURRENCIES, formatMinor, MAX_MINOR_UNITS, parseCurrency, toMinorUnits } from './money';
export type { Money, Currency } from './money';
export { stripeAccountStore } from './stripe-account-repository';
