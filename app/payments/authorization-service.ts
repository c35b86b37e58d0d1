import { createHash } from 'node:crypto';
import { observeAuthorization, type ObservedAuthorization } from '../stripe';
import type { Deps } from '../shared/deps';
import type { Customer } from './customer-repository';
import type { Money } from './money';

/**
 * Authorizations: money held on a card for a later capture (captureAuthorization), after the
 * customer passed 3-D Secure. The PaymentIntent is the record; what it holds is read from Stripe.
 */

export interface AuthorizationRequest {
  customer: Customer;
  paymentMethodId: string;
  amount: Money;
  /** Where Stripe sends the customer after the challenge. */
  returnUrl: string;
  /** The owner's id for this authorization: the same one again never holds money twice. */
  reference: string;
  metadata: Record<string, string>;
}

export interface Authorization {
  paymentIntentId: string;
  observed: ObservedAuthorization;
}

const keyPart = (text: string): string => (text.length <= 64 ? text : createHash('sha256').update(text).digest('hex'));

/** Holds `amount` on the card with a 3-D Secure challenge requested; manual capture. */
export async function authorizeWithChallenge(deps: Pick<Deps, 'stripeAccounts' | 'logger'>, request: AuthorizationRequest): Promise<Authorization> {
  const { gateway } = await deps.stripeAccounts.forAccount(request.customer.stripeAccount);
  const pi = await gateway.createChallengedAuthorization(
    {
      amount: request.amount.minor,
      currency: request.amount.currency,
      customerId: request.customer.stripeCustomerId,
      paymentMethodId: request.paymentMethodId,
      returnUrl: request.returnUrl,
      metadata: request.metadata,
    },
    `${keyPart(request.customer.ownerId)}-authorization-${keyPart(request.reference)}`,
  );
  const observed = observeAuthorization(pi);
  deps.logger.info({ ownerId: request.customer.ownerId, paymentIntentId: pi.id, status: observed.status }, 'authorization requested');
  return { paymentIntentId: pi.id, observed };
}

/** What an authorization holds now, as Stripe says. */
export async function readAuthorization(deps: Pick<Deps, 'stripeAccounts'>, stripeAccount: number, paymentIntentId: string): Promise<ObservedAuthorization> {
  const { gateway } = await deps.stripeAccounts.forAccount(stripeAccount);
  return observeAuthorization(await gateway.retrievePaymentIntentWithCharge(paymentIntentId));
}
