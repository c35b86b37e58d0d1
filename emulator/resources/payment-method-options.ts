/**
 * `payment_method_options` of PaymentIntents and SetupIntents, declared as stripe-node 23 types
 * them: a misspelt card option is `parameter_unknown`, as on Stripe. The emulator acts on
 * `request_three_d_secure` and a PaymentIntent's card `capture_method`; the other card options
 * and the options of other payment method types are accepted and kept out of the answer.
 */
import { p, type ParamRule } from '../params';
import { invalidRequest } from '../stripe-errors';
import { requestThreeDSecureParam } from '../three-d-secure';

/** PaymentIntentCreateParams.PaymentMethodOptions / PaymentIntentConfirmParams.PaymentMethodOptions, minus `card`. */
const PAYMENT_INTENT_OTHER_TYPES = [
  'acss_debit',
  'affirm',
  'afterpay_clearpay',
  'alipay',
  'alma',
  'amazon_pay',
  'au_becs_debit',
  'bacs_debit',
  'bancontact',
  'billie',
  'bizum',
  'blik',
  'boleto',
  'card_present',
  'cashapp',
  'crypto',
  'customer_balance',
  'eps',
  'fpx',
  'giropay',
  'grabpay',
  'ideal',
  'interac_present',
  'kakao_pay',
  'klarna',
  'konbini',
  'kr_card',
  'link',
  'mb_way',
  'mobilepay',
  'multibanco',
  'naver_pay',
  'nz_bank_account',
  'oxxo',
  'p24',
  'pay_by_bank',
  'payco',
  'paynow',
  'paypal',
  'paypay',
  'payto',
  'pix',
  'promptpay',
  'revolut_pay',
  'samsung_pay',
  'satispay',
  'scalapay',
  'sepa_debit',
  'sequra',
  'sofort',
  'sunbit',
  'swish',
  'twint',
  'upi',
  'us_bank_account',
  'wechat_pay',
  'zip',
] as const;

/** SetupIntentCreateParams.PaymentMethodOptions / SetupIntentConfirmParams.PaymentMethodOptions, minus `card`. */
const SETUP_INTENT_OTHER_TYPES = [
  'acss_debit',
  'amazon_pay',
  'bacs_debit',
  'bizum',
  'blik',
  'card_present',
  'klarna',
  'link',
  'paypal',
  'payto',
  'pix',
  'sepa_debit',
  'upi',
  'us_bank_account',
] as const;

function opaqueFields(names: readonly string[]): Record<string, ParamRule> {
  return Object.fromEntries(names.map((name) => [name, p.opaque()]));
}

const paymentIntentCard = p.emptyableObject({
  // Emptyable<'manual'>: an enum that can be unset, checked in `cardCaptureMethod`.
  capture_method: p.emptyableString(),
  request_three_d_secure: requestThreeDSecureParam,
  ...opaqueFields([
    'cvc_token',
    'installments',
    'mandate_options',
    'moto',
    'network',
    'request_extended_authorization',
    'request_incremental_authorization',
    'request_multicapture',
    'request_overcapture',
    'require_cvc_recollection',
    'setup_credential_usage',
    'setup_future_usage',
    'statement_descriptor_suffix_kana',
    'statement_descriptor_suffix_kanji',
    'stored_credential_usage',
    'three_d_secure',
  ]),
});

const setupIntentCard = p.object({
  request_three_d_secure: requestThreeDSecureParam,
  ...opaqueFields(['mandate_options', 'moto', 'network', 'setup_credential_usage', 'three_d_secure']),
});

export const paymentIntentMethodOptions = p.object({ card: paymentIntentCard, ...opaqueFields(PAYMENT_INTENT_OTHER_TYPES) });

export const setupIntentMethodOptions = p.object({ card: setupIntentCard, ...opaqueFields(SETUP_INTENT_OTHER_TYPES) });

/** `payment_method_options[card][capture_method]`: only `manual`, or empty to unset. */
export function cardCaptureMethod(value: string | null | undefined): 'manual' | null | undefined {
  if (value === undefined || value === null) return value;
  if (value !== 'manual') {
    throw invalidRequest('Invalid payment_method_options[card][capture_method]: must be manual', {
      param: 'payment_method_options[card][capture_method]',
    });
  }
  return value;
}
