export { parseConfig, ConfigError, DEV_BILLRUN_SECRET } from './config-schema';
export type { Config, OAuthClient, StripeMode } from './config-schema';
export { parseSharedSecrets } from './shared-secrets';
export type { SharedSecret } from './shared-secrets';
