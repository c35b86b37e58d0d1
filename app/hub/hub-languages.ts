/**
 * The seed's ten languages (`lang`) and the Stripe locale each becomes on the customer's
 * `preferred_locales` (receipts and invoice e-mails). A Map: `lang` comes from the request.
 */
export const HUB_LANGUAGES: ReadonlyMap<string, string> = new Map([
  ['en-gb', 'en-GB'],
  ['en-us', 'en-US'],
  ['id', 'id'],
  ['ja', 'ja'],
  ['th', 'th'],
  ['ko', 'ko'],
  ['zh-hk', 'zh-HK'],
  ['zh-cn', 'zh'],
  ['zh-tw', 'zh-TW'],
  ['ms', 'ms'],
]);

export const stripeLocaleOf = (lang: string): string | undefined => HUB_LANGUAGES.get(lang.toLowerCase());
