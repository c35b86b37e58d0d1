/** The Stripe emulator's public door. See README.md. */
export { startEmulator } from './emulator-server';
export type {
  AccountOption,
  CardSetupResult,
  Emulator,
  EmulatorOptions,
  FaultSpec,
  FaultType,
  LoggedRequest,
  PaymentAuthenticationResult,
  ReleaseOptions,
  WebhookDelivery,
} from './types';
export { signatureHeader } from './webhook-delivery';
export { EmulatorApiError, type StripeErrorBody } from './stripe-errors';
export { TEST_CARDS, type ChargeBehaviour, type SetupBehaviour, type TestCard, type TestCardKey } from './test-cards';
