export { parseConfig, ConfigError, DEV_BILLRUN_SECRET, CONSOLE_USER_NAME } from './config-schema';
export type { Config, ConsoleUser, OAuthClient, StripeMode } from './config-schema';
export { parseSharedSecrets } from './shared-secrets';
export type { SharedSecret } from './shared-secrets';
