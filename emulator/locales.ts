/**
 * The locales Stripe writes customer e-mails, receipts and invoices in: what a Customer's
 * `preferred_locales` may hold. The list is Checkout's `locale` enum in stripe-node 23 (minus
 * `auto`) plus `en-US`, which invoices and receipts distinguish from `en-GB`. Tags are exact:
 * `en-gb` is refused, as an unknown value is.
 */
import { invalidRequest } from './stripe-errors';

export const CUSTOMER_LOCALES: ReadonlySet<string> = new Set([
  'bg',
  'cs',
  'da',
  'de',
  'el',
  'en',
  'en-GB',
  'en-US',
  'es',
  'es-419',
  'et',
  'fi',
  'fil',
  'fr',
  'fr-CA',
  'hi-IN',
  'hr',
  'hu',
  'id',
  'it',
  'ja',
  'ko',
  'lt',
  'lv',
  'ms',
  'mt',
  'nb',
  'nl',
  'pl',
  'pt',
  'pt-BR',
  'ro',
  'ru',
  'sk',
  'sl',
  'sv',
  'th',
  'tr',
  'vi',
  'zh',
  'zh-HK',
  'zh-TW',
]);

/** `preferred_locales[i]` must be one of Stripe's locales. */
export function checkPreferredLocales(locales: readonly string[] | undefined): void {
  locales?.forEach((locale, i) => {
    if (!CUSTOMER_LOCALES.has(locale)) {
      const param = `preferred_locales[${i}]`;
      throw invalidRequest(`Invalid ${param}: must be one of ${[...CUSTOMER_LOCALES].join(', ')}`, { param });
    }
  });
}
