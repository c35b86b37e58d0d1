import { createHash } from 'node:crypto';
import { CURRENCIES, formatMinor, MAX_MINOR_UNITS, parseCurrency, toMinorUnits, type Currency } from '../payments';
import { isAppError } from '../shared/app-error';
import type { FieldReader } from './hub-http';
import { HUB_LANGUAGES } from './hub-languages';
import { isPrivateHost, PRIVATE_WEBHOOK_MESSAGE } from './private-address';

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

const REF_CODE = /^[\x21-\x7e]{1,255}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Reads `transaction_detail`, naming every bad field; undefined when a field was refused. */
export function readTransactionDetail(
  body: FieldReader,
  fallbackEmail?: string,
  options: { refusePrivateWebhooks?: boolean } = {},
): TransactionDetail | undefined {
  const d = body.object('transaction_detail', { required: true });
  if (!d) return undefined;
  const merchantRefCode = d.text('merchant_ref_code', { required: true, pattern: REF_CODE, patternMessage: 'must be printable text without spaces' });
  const amountText = d.decimal('amount', { required: true });
  const serviceText = d.decimal('service_charge', { required: true });
  const description = d.text('description', { required: true, max: 1000 });
  const currencyText = d.text('currency', { required: true, max: 3 });
  const email = d.text('email', { max: 320, pattern: EMAIL, patternMessage: 'must be an e-mail address' }) ?? '';
  const lang = (d.text('lang', { max: 8 }) ?? '').toLowerCase();
  const webhookUrl = d.url('webhook_url') || null;
  // Outside development the signal may not be aimed inside our own network (SSRF).
  if (webhookUrl && options.refusePrivateWebhooks && isPrivateHost(new URL(webhookUrl).hostname)) {
    d.errors.push({ field: 'transaction_detail.webhook_url', message: PRIVATE_WEBHOOK_MESSAGE });
  }
  const detail = {
    firstName: d.text('first_name', { max: 200 }) ?? '',
    lastName: d.text('last_name', { max: 200 }) ?? '',
    mobile: d.text('mobile', { max: 64 }) ?? '',
    sendEmail: d.boolean('send_email') ?? false,
    paymentMethod: d.text('payment_method', { max: 64 }) || null,
  };
  const fail = (field: string, message: string) => d.errors.push({ field: `transaction_detail.${field}`, message });
  if (lang !== '' && !HUB_LANGUAGES.has(lang)) fail('lang', `must be one of ${[...HUB_LANGUAGES.keys()].join(', ')}`);

  let currency: Currency | undefined;
  if (currencyText) {
    try {
      currency = parseCurrency(currencyText);
    } catch (err) {
      fail('currency', isAppError(err) ? err.message : 'is not supported');
    }
  }
  let amount: number | undefined;
  let serviceCharge: number | undefined;
  if (currency) {
    const minor = (field: string, text: string | undefined, allowZero: boolean) => {
      if (text === undefined) return undefined;
      try {
        return toMinorUnits(text, currency, { enforceMinimum: false, allowZero }).minor;
      } catch (err) {
        fail(field, isAppError(err) ? err.message : 'is not a valid amount');
        return undefined;
      }
    };
    amount = minor('amount', amountText, false);
    serviceCharge = minor('service_charge', serviceText, true);
    if (amount !== undefined && serviceCharge !== undefined) {
      const total = amount + serviceCharge;
      const { minimum } = CURRENCIES[currency];
      if (total < minimum) fail('amount', `Amount too small: amount + service_charge must be at least ${formatMinor(minimum, currency)} ${currency}`);
      if (total > MAX_MINOR_UNITS)
        fail('amount', `Amount too large: amount + service_charge must be at most ${formatMinor(MAX_MINOR_UNITS, currency)} ${currency}`);
    }
  }
  if (body.errors.length > 0 || !merchantRefCode || !description || !currency || amount === undefined || serviceCharge === undefined) return undefined;
  return {
    merchantRefCode,
    currency,
    amount,
    serviceCharge,
    total: amount + serviceCharge,
    description,
    email: email || fallbackEmail || '',
    lang,
    webhookUrl,
    ...detail,
  };
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
