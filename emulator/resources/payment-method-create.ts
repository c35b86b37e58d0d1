/**
 * `POST /v1/payment_methods` with `type: card`: raw card data (`card[number]`, `card[exp_month]`,
 * `card[exp_year]`, `card[cvc]`) or a test token (`card[token]: tok_visa`). Stripe test mode takes
 * its test numbers only (a real number is `test_mode_live_card`) and checks number, expiry and
 * CVC as the hosted page does. The number and CVC go no further than this handler: the
 * PaymentMethod keeps the test-card row, brand, last4, expiry and a fingerprint.
 */
import type Stripe from 'stripe';
import { defineRoute, type ApiRoute } from '../api-routes';
import { checkRawCard } from '../card-entry';
import { mergeMetadata, p, type Infer } from '../params';
import type { Store, StoredPaymentMethod } from '../store';
import { invalidRequest, notSupported, parameterMissing, resourceMissingParam } from '../stripe-errors';
import { DECLINES, isMagicId, isTestNumber, lookupMagicId, type CardIdentity } from '../test-cards';
import { createCardPaymentMethod, declineToCardError, defaultExpiry, serializePaymentMethod } from './payment-methods';

/** PaymentMethodCreateParams' hashes of the other payment method types: known to Stripe, not to the emulator. */
const OTHER_TYPES = [
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
  'cashapp',
  'crypto',
  'custom',
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

const address = p.emptyableObject({
  city: p.string(),
  country: p.string(),
  line1: p.string(),
  line2: p.string(),
  postal_code: p.string(),
  state: p.string(),
});

const params = {
  type: p.string(),
  card: p.object({
    number: p.string(),
    exp_month: p.integer(),
    exp_year: p.integer(),
    cvc: p.string(),
    networks: p.object({ preferred: p.string() }),
    token: p.string(),
  }),
  billing_details: p.object({
    address,
    email: p.emptyableString(),
    name: p.emptyableString(),
    phone: p.emptyableString(),
    tax_id: p.string(),
  }),
  metadata: p.metadata(),
  allow_redisplay: p.enumOf('always', 'limited', 'unspecified'),
  customer: p.string(),
  payment_method: p.string(),
  radar_options: p.opaque(),
  expand: p.expand(),
  ...Object.fromEntries(OTHER_TYPES.map((t) => [t, p.opaque()])),
} as const;

type CreateParams = Infer<typeof params>;
type CardParams = NonNullable<CreateParams['card']>;

interface ResolvedCard {
  identity: CardIdentity;
  expMonth: number;
  expYear: number;
  cvcProvided: boolean;
}

/** Stripe takes two-digit years as this century's. */
function fullYear(year: number): number {
  return year < 100 ? 2000 + year : year;
}

function fromToken(store: Store, token: string): ResolvedCard {
  const identity = isMagicId(token) ? lookupMagicId(token) : undefined;
  if (!identity) throw resourceMissingParam('token', token, 'card[token]');
  return { identity, ...defaultExpiry(store), cvcProvided: false };
}

function fromRawCard(store: Store, card: CardParams): ResolvedCard {
  if (card.number === undefined) throw parameterMissing('card[number]');
  if (card.exp_month === undefined) throw parameterMissing('card[exp_month]');
  if (card.exp_year === undefined) throw parameterMissing('card[exp_year]');
  const expYear = fullYear(card.exp_year);
  const checked = checkRawCard({ number: card.number, expMonth: card.exp_month, expYear, cvc: card.cvc }, store.now());
  if (!checked.ok) throw declineToCardError(checked.decline);
  if (!isTestNumber(checked.identity, card.number.replace(/[\s-]/g, ''))) throw declineToCardError(DECLINES.liveCardInTestMode);
  return { identity: checked.identity, expMonth: card.exp_month, expYear, cvcProvided: card.cvc !== undefined };
}

function resolveCard(store: Store, given: CreateParams): ResolvedCard {
  if (given.type === undefined) throw parameterMissing('type');
  if (given.type !== 'card') throw notSupported(`type=${given.type}`, 'type');
  const other = OTHER_TYPES.find((t) => Object.hasOwn(given, t));
  if (other !== undefined) throw invalidRequest(`You passed \`${other}\`, but the PaymentMethod's type is \`card\`.`, { param: other });
  const card = given.card;
  if (card === undefined) throw parameterMissing('card');
  if (card.token !== undefined) {
    if (card.number !== undefined) throw invalidRequest('You cannot pass both card[token] and card[number].', { param: 'card[token]' });
    return fromToken(store, card.token);
  }
  return fromRawCard(store, card);
}

function billingDetails(input: CreateParams['billing_details'], email: string | null): Stripe.PaymentMethod.BillingDetails {
  const a = input?.address;
  return {
    address: {
      city: a?.city ?? null,
      country: a?.country ?? null,
      line1: a?.line1 ?? null,
      line2: a?.line2 ?? null,
      postal_code: a?.postal_code ?? null,
      state: a?.state ?? null,
    },
    email,
    name: input?.name ?? null,
    phone: input?.phone ?? null,
    tax_id: input?.tax_id ?? null,
  };
}

function createFromParams(store: Store, given: CreateParams): StoredPaymentMethod {
  // Cloning a platform's PaymentMethod onto a connected account: Connect, which the emulator has not.
  if (given.customer !== undefined || given.payment_method !== undefined) {
    throw notSupported('Cloning PaymentMethods (customer, payment_method)', given.customer !== undefined ? 'customer' : 'payment_method');
  }
  const card = resolveCard(store, given);
  const email = given.billing_details?.email ?? null;
  const pm = createCardPaymentMethod(store, card.identity, {
    expMonth: card.expMonth,
    expYear: card.expYear,
    cvcProvided: card.cvcProvided,
    name: given.billing_details?.name ?? null,
    email,
  });
  pm.api.billing_details = billingDetails(given.billing_details, email);
  pm.api.metadata = mergeMetadata({}, given.metadata);
  if (given.allow_redisplay !== undefined) pm.api.allow_redisplay = given.allow_redisplay;
  return pm;
}

const create = defineRoute({
  method: 'POST',
  path: '/v1/payment_methods',
  params,
  expandable: ['customer'],
  handle: ({ store, runtime, params: given }) => {
    const pm = createFromParams(store, given);
    runtime.log('payment method created', { payment_method: pm.api.id, brand: pm.api.card?.brand, last4: pm.api.card?.last4 });
    return { body: serializePaymentMethod(pm) };
  },
});

export const paymentMethodCreateRoutes: ApiRoute[] = [create];
