import { observePaymentIntent, type PaymentIntent } from '../stripe';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { countAuthAttempt, findChargeByAuthToken, type Charge } from './charge-repository';
import { applyPaymentState } from './charge-state';

/**
 * The customer's page for a charge that needs 3-D Secure: a link of random token opens it, and the
 * customer confirms on-session there. Any owner's charge may send its customer here.
 */
export type AuthenticationStep = { kind: 'redirect'; url: string } | { kind: 'result'; charge: Charge };

const challengeUrl = (pi: PaymentIntent): string | undefined =>
  pi.status === 'requires_action' && pi.next_action?.type === 'redirect_to_url' ? (pi.next_action.redirect_to_url?.url ?? undefined) : undefined;

/** Link tokens are 24 random bytes in base64url; anything else (a NUL byte, a typo) is simply not a link of ours. */
const AUTH_TOKEN = /^[A-Za-z0-9_-]{32}$/;

async function chargeFor(deps: Deps, token: string): Promise<Charge> {
  if (!AUTH_TOKEN.test(token)) throw new AppError('not_found', 'This payment link is not valid');
  const charge = await findChargeByAuthToken(deps.db, token);
  if (!charge || !charge.paymentIntentId) throw new AppError('not_found', 'This payment link is not valid');
  return charge;
}

/** What the link shows before anything happens (a link preview or mail scanner may fetch it). */
export async function describeAuthentication(deps: Deps, token: string): Promise<Charge> {
  return chargeFor(deps, token);
}

/**
 * The customer pressed "continue": confirm the PaymentIntent on-session (the customer is here
 * now) and send the browser to the bank's challenge.
 */
export async function startAuthentication(deps: Deps, token: string): Promise<AuthenticationStep> {
  const charge = await chargeFor(deps, token);
  if (charge.status !== 'requires_action') return { kind: 'result', charge };
  const { gateway } = await deps.stripeAccounts.forAccount(charge.stripeAccount);
  let pi = await gateway.retrievePaymentIntent(charge.paymentIntentId as string);
  const pending = challengeUrl(pi);
  if (pending) return { kind: 'redirect', url: pending };
  if (pi.status === 'requires_payment_method' || pi.status === 'requires_confirmation') {
    // One key per attempt number: two tabs pressing at once send the same key, so Stripe
    // confirms once; the next attempt (after a failed challenge) gets the next number.
    const attempt = charge.authAttempts;
    pi = await gateway.confirmOnSession(
      pi.id,
      { paymentMethodId: charge.paymentMethodId, returnUrl: `${deps.config.publicBaseUrl}/pay/authenticate/${token}/return` },
      `charge-${charge.id}-onsession-${attempt}`,
    );
    await countAuthAttempt(deps.db, charge.id, attempt);
  }
  const applied = await applyPaymentState(deps, charge.id, observePaymentIntent(pi));
  const url = challengeUrl(pi);
  return url ? { kind: 'redirect', url } : { kind: 'result', charge: applied };
}

/** Back from the challenge: record what Stripe says now (the webhook would too). */
export async function finishAuthentication(deps: Deps, token: string): Promise<Charge> {
  const charge = await chargeFor(deps, token);
  const { gateway } = await deps.stripeAccounts.forAccount(charge.stripeAccount);
  return applyPaymentState(deps, charge.id, observePaymentIntent(await gateway.retrievePaymentIntent(charge.paymentIntentId as string)));
}
