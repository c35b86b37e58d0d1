export { applyCardSetupState, settledOutcome, STRIPE_GATEWAY_NAME } from './card-setup-service';
export type { SetupOutcome } from './card-setup-service';
export * from './account-repository';
export * from './card-repository';
export * from './handshake-repository';
