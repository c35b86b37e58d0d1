/**
 * Requested 3-D Secure (`payment_method_options[card][request_three_d_secure]`) and the
 * `next_action` of a challenge, shared by PaymentIntents and SetupIntents.
 *
 * `automatic` (Stripe's default) leaves it to the card: only cards that demand authentication are
 * challenged. `any` and `challenge` ask for it: a card whose issuer supports 3DS is challenged
 * (Stripe's test mode always shows its test page then), one that does not (378282246310005)
 * proceeds unauthenticated and the charge records `three_d_secure.result: not_supported`.
 */
import { randomAlnum } from './ids';
import { p } from './params';

export type ThreeDSecureRequest = 'automatic' | 'any' | 'challenge';

export const requestThreeDSecureParam = p.enumOf('any', 'automatic', 'challenge');

/** Whether the merchant asked for 3DS on this confirmation. */
export function isRequested(request: string | null | undefined): boolean {
  return request === 'any' || request === 'challenge';
}

export interface ChallengeAction {
  type: string;
  redirect_to_url?: { url: string | null; return_url: string | null };
  use_stripe_sdk?: { [key: string]: unknown };
}

/**
 * Stripe's next_action for a challenge: `redirect_to_url` when the confirmation named a
 * `return_url` (and did not ask for the SDK), otherwise `use_stripe_sdk`, which Stripe.js
 * (`handleNextAction`) follows. Its content is Stripe.js's business; here it carries the same
 * challenge page as `stripe_js`, the key Stripe uses for its 3DS redirect.
 */
export function challengeAction(url: string, returnUrl: string | null, useStripeSdk: boolean): ChallengeAction {
  if (returnUrl !== null && !useStripeSdk) return { type: 'redirect_to_url', redirect_to_url: { url, return_url: returnUrl } };
  return { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url, source: `src_${randomAlnum(24)}` } };
}

/** The challenge page of a PaymentIntent or SetupIntent, wherever its next_action keeps it. */
export function challengeUrlOf(action: ChallengeAction | null | undefined): string | null {
  if (!action) return null;
  if (action.redirect_to_url) return action.redirect_to_url.url;
  const js = action.use_stripe_sdk?.stripe_js;
  return typeof js === 'string' ? js : null;
}
