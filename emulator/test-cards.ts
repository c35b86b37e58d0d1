/**
 * Stripe's test cards (see /work/shared/spec/stripe.md) and what each does in the emulator:
 * `setup` when the card is saved (Checkout setup mode, SetupIntent confirm, PaymentMethod attach),
 * `charge` when a PaymentIntent is confirmed (resources/payment-intents.ts).
 *
 * Card numbers are public test numbers; PaymentMethods keep only the row's `key`, brand, last4
 * and a fingerprint (a hash, stable per number, as Stripe's is).
 */
import { createHash } from 'node:crypto';

export interface CardDecline {
  /** Stripe error `code`, e.g. card_declined, expired_card, incorrect_number. */
  code: string;
  declineCode?: string;
  message: string;
  param?: string;
  /** Radar blocked it before it reached the card network (the charge's outcome says `blocked`). */
  blocked?: true;
}

export type SetupBehaviour =
  | { kind: 'succeed' }
  /** A 3DS challenge before the card is saved; passing it saves the card, failing it does not. */
  | { kind: 'three_d_secure' }
  | { kind: 'decline'; decline: CardDecline };

export type ChargeBehaviour =
  | { kind: 'succeed' }
  | { kind: 'decline'; decline: CardDecline }
  /** 3DS on every payment; off-session payments fail with authentication_required. */
  | { kind: 'auth_required_always' }
  /**
   * 3DS on setup and on every on-session payment; off-session payments succeed, as Stripe's test
   * docs say, "as if the card has been previously set up".
   */
  | { kind: 'auth_on_setup_only' }
  | { kind: '3ds_then'; after: 'succeed' }
  | { kind: '3ds_then'; after: 'decline'; decline: CardDecline };

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'jcb' | 'discover' | 'diners' | 'unknown';
export type CardFunding = 'credit' | 'debit' | 'prepaid' | 'unknown';

export type TestCardKey =
  | 'visa'
  | 'authenticationRequiredOnSetup'
  | 'authenticationRequired'
  | 'threeDSecure2Required'
  | 'threeDSecureRequiredChargeDeclined'
  | 'chargeDeclined'
  | 'chargeDeclinedInsufficientFunds'
  | 'chargeDeclinedLostCard'
  | 'chargeDeclinedStolenCard'
  | 'chargeDeclinedExpiredCard'
  | 'chargeDeclinedIncorrectCvc'
  | 'chargeDeclinedProcessingError'
  | 'chargeCustomerFail'
  | 'jcbSeed'
  | 'threeDSecureSeed'
  | 'radarBlock'
  | 'amexThreeDSecureNotSupported'
  | 'generic';

export interface TestCard {
  key: TestCardKey;
  /** null for the generic row (any other number that passes Luhn). */
  number: string | null;
  brand: CardBrand;
  funding: CardFunding;
  country: string;
  /** Magic PaymentMethod ids; each `pm_card_x` is also accepted as `tok_x`. */
  magicIds: readonly string[];
  setup: SetupBehaviour;
  charge: ChargeBehaviour;
  /**
   * Whether the issuer takes part in 3-D Secure. When a merchant requests it
   * (`request_three_d_secure: any | challenge`) a supporting card is challenged; one that does
   * not support it proceeds unauthenticated, as Stripe's 378282246310005 does.
   */
  threeDSecureSupported: boolean;
  summary: string;
}

/** What the emulator knows about a card once resolved: the behaviour row plus its own brand and last4. */
export interface CardIdentity {
  card: TestCard;
  brand: CardBrand;
  last4: string;
  funding: CardFunding;
  country: string;
  fingerprint: string;
}

export type CardLookup = { ok: true; identity: CardIdentity } | { ok: false; decline: CardDecline };

export const DECLINES = {
  generic: { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
  insufficientFunds: { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  lostCard: { code: 'card_declined', declineCode: 'lost_card', message: 'Your card was declined.' },
  stolenCard: { code: 'card_declined', declineCode: 'stolen_card', message: 'Your card was declined.' },
  expiredCard: { code: 'expired_card', declineCode: 'expired_card', message: 'Your card has expired.', param: 'exp_month' },
  incorrectCvc: { code: 'incorrect_cvc', declineCode: 'incorrect_cvc', message: "Your card's security code is incorrect.", param: 'cvc' },
  /** Radar's block: to the customer a plain decline; the charge's outcome says `blocked`. */
  fraudulent: { code: 'card_declined', declineCode: 'fraudulent', message: 'Your card was declined.', blocked: true },
  /** A number that is not one of Stripe's test cards, sent in test mode. */
  liveCardInTestMode: {
    code: 'card_declined',
    declineCode: 'test_mode_live_card',
    message:
      'Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.',
  },
  processingError: {
    code: 'processing_error',
    declineCode: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
  incorrectNumber: { code: 'incorrect_number', message: 'Your card number is incorrect.', param: 'number' },
  invalidNumber: { code: 'invalid_number', message: 'The card number is not a valid credit card number.', param: 'number' },
} as const satisfies Record<string, CardDecline>;

const succeed = { kind: 'succeed' } as const;
const threeDS = { kind: 'three_d_secure' } as const;

function declineRow(decline: CardDecline): { setup: SetupBehaviour; charge: ChargeBehaviour } {
  return { setup: { kind: 'decline', decline }, charge: { kind: 'decline', decline } };
}

function magic(...names: string[]): string[] {
  return names.map((n) => `pm_card_${n}`);
}

export const TEST_CARDS: readonly TestCard[] = [
  {
    key: 'visa',
    number: '4242424242424242',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('visa'),
    setup: succeed,
    charge: succeed,
    threeDSecureSupported: true,
    summary: 'succeeds',
  },
  {
    key: 'authenticationRequiredOnSetup',
    number: '4000002500003155',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('authenticationRequiredOnSetup'),
    setup: threeDS,
    charge: { kind: 'auth_on_setup_only' },
    threeDSecureSupported: true,
    summary: '3DS on setup and on-session payments; off-session payments succeed',
  },
  {
    key: 'authenticationRequired',
    number: '4000002760003184',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('authenticationRequired'),
    setup: threeDS,
    charge: { kind: 'auth_required_always' },
    threeDSecureSupported: true,
    summary: '3DS on every payment; off-session -> 402 authentication_required',
  },
  {
    key: 'threeDSecure2Required',
    number: '4000000000003220',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('threeDSecure2Required'),
    setup: threeDS,
    charge: { kind: '3ds_then', after: 'succeed' },
    threeDSecureSupported: true,
    summary: '3DS2 challenge, then succeeds',
  },
  {
    key: 'threeDSecureRequiredChargeDeclined',
    number: '4000008400001629',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('threeDSecureRequiredChargeDeclined'),
    setup: threeDS,
    charge: { kind: '3ds_then', after: 'decline', decline: DECLINES.generic },
    threeDSecureSupported: true,
    summary: '3DS, then card_declined',
  },
  {
    key: 'chargeDeclined',
    number: '4000000000000002',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('visa_chargeDeclined', 'chargeDeclined'),
    ...declineRow(DECLINES.generic),
    threeDSecureSupported: true,
    summary: 'card_declined / generic_decline',
  },
  {
    key: 'chargeDeclinedInsufficientFunds',
    number: '4000000000009995',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('visa_chargeDeclinedInsufficientFunds', 'chargeDeclinedInsufficientFunds'),
    // A $0 setup check cannot run out of funds: the card saves, payments decline.
    setup: succeed,
    charge: { kind: 'decline', decline: DECLINES.insufficientFunds },
    threeDSecureSupported: true,
    summary: 'saves; payments: card_declined / insufficient_funds',
  },
  {
    key: 'chargeDeclinedLostCard',
    number: '4000000000009987',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('visa_chargeDeclinedLostCard', 'chargeDeclinedLostCard'),
    ...declineRow(DECLINES.lostCard),
    threeDSecureSupported: true,
    summary: 'card_declined / lost_card',
  },
  {
    key: 'chargeDeclinedStolenCard',
    number: '4000000000009979',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('visa_chargeDeclinedStolenCard', 'chargeDeclinedStolenCard'),
    ...declineRow(DECLINES.stolenCard),
    threeDSecureSupported: true,
    summary: 'card_declined / stolen_card',
  },
  {
    key: 'chargeDeclinedExpiredCard',
    number: '4000000000000069',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('chargeDeclinedExpiredCard', 'visa_chargeDeclinedExpiredCard'),
    ...declineRow(DECLINES.expiredCard),
    threeDSecureSupported: true,
    summary: 'expired_card',
  },
  {
    key: 'chargeDeclinedIncorrectCvc',
    number: '4000000000000127',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('chargeDeclinedIncorrectCvc', 'visa_chargeDeclinedIncorrectCvc'),
    ...declineRow(DECLINES.incorrectCvc),
    threeDSecureSupported: true,
    summary: 'incorrect_cvc',
  },
  {
    key: 'chargeDeclinedProcessingError',
    number: '4000000000000119',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('chargeDeclinedProcessingError', 'visa_chargeDeclinedProcessingError'),
    ...declineRow(DECLINES.processingError),
    threeDSecureSupported: true,
    summary: 'processing_error',
  },
  {
    key: 'chargeCustomerFail',
    number: '4000000000000341',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('chargeCustomerFail'),
    setup: succeed,
    charge: { kind: 'decline', decline: DECLINES.generic },
    threeDSecureSupported: true,
    summary: 'saves; payments: card_declined / generic_decline',
  },
  {
    key: 'jcbSeed',
    number: '3530111333300000',
    brand: 'jcb',
    funding: 'credit',
    country: 'JP',
    magicIds: [],
    setup: succeed,
    charge: succeed,
    threeDSecureSupported: true,
    summary: 'JCB (seed example): succeeds',
  },
  {
    key: 'threeDSecureSeed',
    number: '4000000000001091',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: [],
    // The seed's 3DS card: it supports 3DS but asks for nothing unless the merchant requests it.
    setup: succeed,
    charge: succeed,
    threeDSecureSupported: true,
    summary: 'not a Stripe card (seed example): succeeds frictionless; challenged when 3DS is requested',
  },
  {
    key: 'radarBlock',
    number: '4100000000000019',
    brand: 'visa',
    funding: 'credit',
    country: 'US',
    magicIds: magic('radarBlock'),
    ...declineRow(DECLINES.fraudulent),
    threeDSecureSupported: true,
    summary: 'Radar always blocks it: card_declined / fraudulent, outcome blocked, risk highest',
  },
  {
    key: 'amexThreeDSecureNotSupported',
    number: '378282246310005',
    brand: 'amex',
    funding: 'credit',
    country: 'US',
    magicIds: magic('amex'),
    setup: succeed,
    charge: succeed,
    threeDSecureSupported: false,
    summary: 'American Express, no 3DS support: a requested challenge is skipped, succeeds',
  },
];

/**
 * Stripe's other documented test numbers ("cards by brand"): behave as the generic row. With a
 * raw card number, Stripe test mode accepts its test numbers only (see `isTestNumber`).
 */
export const BRAND_TEST_NUMBERS: ReadonlySet<string> = new Set([
  '4000056655665556',
  '5555555555554444',
  '2223003122003222',
  '5200828282828210',
  '5105105105105100',
  '371449635398431',
  '6011111111111117',
  '6011000990139424',
  '6011981111111113',
  '3056930009020004',
  '36227206271667',
  '3566002020360505',
]);

const GENERIC: TestCard = {
  key: 'generic',
  number: null,
  brand: 'unknown',
  funding: 'credit',
  country: 'US',
  magicIds: [],
  setup: succeed,
  charge: succeed,
  threeDSecureSupported: true,
  summary: 'any other number that passes Luhn: succeeds as a card of its brand',
};

const BY_NUMBER = new Map(TEST_CARDS.map((c) => [c.number, c]));
const BY_MAGIC = new Map<string, TestCard>();
for (const c of TEST_CARDS) {
  for (const id of c.magicIds) {
    BY_MAGIC.set(id, c);
    BY_MAGIC.set(id.replace(/^pm_card_/, 'tok_'), c);
  }
}

export function testCardByKey(key: TestCardKey): TestCard {
  return key === 'generic' ? GENERIC : (TEST_CARDS.find((c) => c.key === key) ?? GENERIC);
}

export function isMagicId(id: string): boolean {
  return id.startsWith('pm_card_') || id.startsWith('tok_');
}

export function lookupMagicId(id: string): CardIdentity | undefined {
  const card = BY_MAGIC.get(id);
  if (!card || card.number === null) return undefined;
  return identityOf(card, card.number);
}

/** Accepts digits with spaces or dashes; a Luhn failure is incorrect_number, as on Stripe. */
export function lookupCardNumber(raw: string): CardLookup {
  const digits = raw.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) return { ok: false, decline: DECLINES.invalidNumber };
  if (!luhnValid(digits)) return { ok: false, decline: DECLINES.incorrectNumber };
  const card = BY_NUMBER.get(digits) ?? GENERIC;
  return { ok: true, identity: identityOf(card, digits) };
}

function identityOf(card: TestCard, digits: string): CardIdentity {
  return {
    card,
    brand: card.number === null ? detectBrand(digits) : card.brand,
    last4: digits.slice(-4),
    funding: card.funding,
    country: card.country,
    fingerprint: fingerprintOf(digits),
  };
}

function fingerprintOf(digits: string): string {
  return createHash('sha256').update(`stripe-emulator-card:${digits}`).digest('base64url').replace(/[-_]/g, '').slice(0, 16);
}

/** Whether Stripe test mode takes this number as raw card data: a test-card row or a documented brand number. */
export function isTestNumber(identity: CardIdentity, digits: string): boolean {
  return identity.card.key !== 'generic' || BRAND_TEST_NUMBERS.has(digits);
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export function detectBrand(digits: string): CardBrand {
  if (digits.startsWith('4')) return 'visa';
  if (/^3[47]/.test(digits)) return 'amex';
  if (digits.startsWith('35')) return 'jcb';
  if (/^3(0|6|8)/.test(digits)) return 'diners';
  if (/^[25]/.test(digits)) return 'mastercard';
  if (digits.startsWith('6')) return 'discover';
  return 'unknown';
}
