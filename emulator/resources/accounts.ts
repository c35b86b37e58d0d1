/**
 * The account the request's key belongs to: `GET /v1/account` (stripe-node
 * `accounts.retrieve()`), and `GET /v1/accounts/:id` for its own id. Every emulated account is a
 * Standard test-mode account in the US that has finished onboarding and is not a Connect
 * platform, so another account's id is refused as Stripe refuses it for a platform without
 * Connect, and the list of connected accounts is empty.
 */
import type Stripe from 'stripe';
import type { AccountIdentity } from '../accounts';
import { defineRoute, paginate, type ApiRoute } from '../api-routes';
import { listParams, p } from '../params';
import { connectOnly } from '../stripe-errors';

/** What charges show as `calculated_statement_descriptor` (the account's `settings.payments.statement_descriptor`). */
export const STATEMENT_DESCRIPTOR = 'EMULATOR';
const DISPLAY_NAME = 'Emulator sandbox';

function nothingDue(): Stripe.Account.Requirements {
  return {
    alternatives: [],
    current_deadline: null,
    currently_due: [],
    disabled_reason: null,
    errors: [],
    eventually_due: [],
    past_due: [],
    pending_verification: [],
  };
}

/**
 * `livemode` is the emulator's addition: Stripe's account object has none (nor stripe-node's
 * type), but a service that is told the account's mode must not have to guess it from the key.
 */
export function serializeAccount(account: AccountIdentity): Stripe.Account & { livemode: false } {
  return {
    id: account.id,
    object: 'account',
    livemode: false,
    business_profile: {
      mcc: null,
      minority_owned_business_designation: null,
      name: DISPLAY_NAME,
      product_description: null,
      specified_commercial_transactions_act_url: null,
      support_address: null,
      support_email: null,
      support_phone: null,
      support_url: null,
      url: null,
    },
    business_type: null,
    capabilities: { card_payments: 'active', transfers: 'active' },
    charges_enabled: true,
    controller: { type: 'account' },
    country: 'US',
    created: account.created,
    default_currency: 'usd',
    details_submitted: true,
    // The `.invalid` top-level domain never delivers: nobody gets mail meant for a sandbox owner.
    email: `owner+${account.id}@emulator.invalid`,
    future_requirements: nothingDue(),
    metadata: {},
    payouts_enabled: true,
    requirements: nothingDue(),
    settings: {
      branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
      card_payments: {
        decline_on: { avs_failure: false, cvc_failure: false },
        statement_descriptor_prefix: null,
        statement_descriptor_prefix_kana: null,
        statement_descriptor_prefix_kanji: null,
      },
      dashboard: { display_name: DISPLAY_NAME, timezone: 'Etc/UTC' },
      payments: {
        statement_descriptor: STATEMENT_DESCRIPTOR,
        statement_descriptor_kana: null,
        statement_descriptor_kanji: null,
        statement_descriptor_prefix_kana: null,
        statement_descriptor_prefix_kanji: null,
      },
      payouts: { debit_negative_balances: true, schedule: { delay_days: 2, interval: 'daily' }, statement_descriptor: null },
    },
    tos_acceptance: { date: account.created, ip: null, user_agent: null },
    type: 'standard',
  };
}

const retrieveOwn = defineRoute({
  method: 'GET',
  path: '/v1/account',
  params: { expand: p.expand() },
  handle: ({ account }) => ({ body: serializeAccount(account) }),
});

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/accounts/:id',
  params: { expand: p.expand() },
  handle: ({ account, path }) => {
    if (path.id !== account.id) throw connectOnly();
    return { body: serializeAccount(account) };
  },
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/accounts',
  params: { ...listParams, created: p.range() },
  list: true,
  // stripe-node: "If you're not a platform, the list is empty."
  handle: ({ params }) => ({ body: paginate([], params, '/v1/accounts') }),
});

export const accountRoutes: ApiRoute[] = [retrieveOwn, retrieve, list];
