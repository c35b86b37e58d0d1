import { createHash } from 'node:crypto';
import { CURRENCIES, formatMinor, MAX_MINOR_UNITS, parseCurrency, toMinorUnits, type Currency } from '../payments';
import { isAppError } from '../shared/app-error';
import { evenWithFailedFields, failedFields, objectOf, optionalBoolean, optionalText, optionalUrl, requiredDecimal, requiredText } from './hub-fields';
import { HUB_LANGUAGES } from './hub-languages';
import { privateWebhookProblem } from './private-address';

/** A charge as the merchant describes it (`transaction_detail`), amounts in exact minor units. */
export interface TransactionDetail {
  merchantRefCode: string;
  currency: Currency;
  amount: number;
  serviceCharge: number;
  /** amount + service_charge: what Stripe charges. */
  total: number;
  description: string;
  firstName: string;
  lastName: string;
  mobile: string;
  email: string;
  sendEmail: boolean;
  lang: string;
  paymentMethod: string | null;
  webhookUrl: string | null;
}

export const REF_CODE = /^[\x21-\x7e]{1,255}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const LANGS = [...HUB_LANGUAGES.keys()];

/** Minor units of a decimal field, or the message that refuses it. */
function minorOf(text: string, currency: Currency, allowZero: boolean): { minor: number } | { message: string } {
  try {
    return { minor: toMinorUnits(text, currency, { enforceMinimum: false, allowZero }).minor };
  } catch (err) {
    return { message: isAppError(err) ? err.message : 'is not a valid amount' };
  }
}

function currencyOf(text: string): { currency: Currency } | { message: string } {
  try {
    return { currency: parseCurrency(text) };
  } catch (err) {
    return { message: isAppError(err) ? err.message : 'is not supported' };
  }
}

/**
 * `transaction_detail` as the merchant describes a charge. The checks across fields (the
 * currency's decimals, the total's bounds, a webhook aimed inside our network) run even when
 * other fields failed, so one answer names every bad field.
 */
export function transactionDetailSchema(options: { refusePrivateWebhooks?: boolean } = {}) {
  return objectOf({
    merchant_ref_code: requiredText({ pattern: REF_CODE, patternMessage: 'must be printable text without spaces' }).meta({
      description: 'Unique per merchant: the idempotency key of the charge.',
      examples: ['INV-2026-0001'],
    }),
    amount: requiredDecimal().meta({ examples: [150] }),
    service_charge: requiredDecimal().meta({ description: 'Added to amount: Total = amount + service_charge.', examples: [2.5] }),
    description: requiredText({ max: 1000 }).meta({ examples: ['Room 12, two nights'] }),
    currency: requiredText({ max: 3 }).meta({ description: `One of ${Object.keys(CURRENCIES).join(', ')}.`, examples: ['USD'] }),
    first_name: optionalText({ max: 200 }),
    last_name: optionalText({ max: 200 }),
    mobile: optionalText({ max: 64 }),
    email: optionalText({ max: 320, pattern: EMAIL, patternMessage: 'must be an e-mail address' }).meta({
      description: "The receipt's address; the card's e-mail when not given.",
    }),
    send_email: optionalBoolean().meta({ description: 'Stripe sends its receipt e-mail.' }),
    lang: optionalText({ max: 8 })
      .transform((v) => v?.toLowerCase())
      .refine((v) => v === undefined || HUB_LANGUAGES.has(v), `must be one of ${LANGS.join(', ')}`)
      .meta({ description: `One of ${LANGS.join(', ')}: the language of Stripe's e-mails and receipts.` }),
    payment_method: optionalText({ max: 64 }),
    webhook_url: optionalUrl().meta({ description: 'Signalled on each status change of the transaction.' }),
  })
    .superRefine((d, ctx) => {
      const failed = failedFields(ctx);
      const fail = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
      const webhookProblem = failed.has('webhook_url') ? undefined : privateWebhookProblem(d.webhook_url, options.refusePrivateWebhooks);
      if (webhookProblem) fail('webhook_url', webhookProblem);
      if (failed.has('currency') || !d.currency) return;
      const parsed = currencyOf(d.currency);
      if ('message' in parsed) return fail('currency', parsed.message);
      const { currency } = parsed;
      const amount = failed.has('amount') ? undefined : minorOf(d.amount, currency, false);
      const serviceCharge = failed.has('service_charge') ? undefined : minorOf(d.service_charge, currency, true);
      if (amount && 'message' in amount) fail('amount', amount.message);
      if (serviceCharge && 'message' in serviceCharge) fail('service_charge', serviceCharge.message);
      if (amount && 'minor' in amount && serviceCharge && 'minor' in serviceCharge) {
        const total = amount.minor + serviceCharge.minor;
        const { minimum } = CURRENCIES[currency];
        if (total < minimum) fail('amount', `Amount too small: amount + service_charge must be at least ${formatMinor(minimum, currency)} ${currency}`);
        if (total > MAX_MINOR_UNITS)
          fail('amount', `Amount too large: amount + service_charge must be at most ${formatMinor(MAX_MINOR_UNITS, currency)} ${currency}`);
      }
    }, evenWithFailedFields)
    .transform((d): TransactionDetail => {
      const currency = parseCurrency(d.currency);
      const amount = toMinorUnits(d.amount, currency, { enforceMinimum: false, allowZero: false }).minor;
      const serviceCharge = toMinorUnits(d.service_charge, currency, { enforceMinimum: false, allowZero: true }).minor;
      return {
        merchantRefCode: d.merchant_ref_code,
        currency,
        amount,
        serviceCharge,
        total: amount + serviceCharge,
        description: d.description,
        firstName: d.first_name ?? '',
        lastName: d.last_name ?? '',
        mobile: d.mobile ?? '',
        email: d.email ?? '',
        sendEmail: d.send_email ?? false,
        lang: d.lang ?? '',
        paymentMethod: d.payment_method ?? null,
        webhookUrl: d.webhook_url ?? null,
      };
    })
    .meta({ id: 'TransactionDetail', description: 'A charge as the merchant describes it; amounts in major units (JPY 500, USD 19.99).' });
}

/** What makes a repeated merchant_ref_code the same request: everything the merchant asked for. */
export function detailFingerprint(parts: { vendorId: string; tokenId: string | null; detail: TransactionDetail }): string {
  const d = parts.detail;
  return createHash('sha256')
    .update(
      JSON.stringify([
        parts.vendorId,
        parts.tokenId,
        d.merchantRefCode,
        d.currency,
        d.amount,
        d.serviceCharge,
        d.description,
        d.firstName,
        d.lastName,
        d.mobile,
        d.email,
        d.sendEmail,
        d.lang,
        d.paymentMethod,
        d.webhookUrl,
      ]),
    )
    .digest('hex');
}
