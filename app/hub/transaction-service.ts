import { captureAuthorization, chargeSavedCard, listRefunds, readCharge, setCustomerLanguages, type Charge, type Refund } from '../payments';
import { stripeLocaleOf } from './hub-languages';
import { isUniqueViolation } from '../db';
import { AppError, isAppError } from '../shared/app-error';
import type { HubCaller } from './hub-auth';
import type { Hub } from './hub-context';
import { isChargeable } from './hub-presenters';
import { refreshThreeDSecureToken } from './three-d-secure-service';
import { findToken, updateToken, type Token } from './token-repository';
import { validationFailed } from './hub-http';
import { detailFingerprint, type TransactionDetail } from './transaction-detail';
import { bindCharge, findTransaction, insertTransactionOnce, type HubTransaction } from './transaction-repository';
import type { Vendor } from './vendor-repository';

export interface ChargeResult {
  token: Token;
  transaction: HubTransaction;
  charge: Charge | undefined;
  /** The charge's refunds, oldest first (those made at Stripe directly too). */
  refunds: Refund[];
}

const refundsOf = async (hub: Hub, charge: Charge | undefined): Promise<Refund[]> => (charge ? listRefunds(hub.deps, charge.ownerId, charge.id) : []);

const REUSED = 'merchant_ref_code was already used for a different transaction';

/** The core's charge of a transaction, if one was made. */
async function chargeOf(hub: Hub, tx: HubTransaction): Promise<Charge | undefined> {
  try {
    return await readCharge(hub.deps, tx.ownerId, { reference: tx.merchantRefCode });
  } catch (err) {
    if (isAppError(err) && err.kind === 'not_found') return undefined;
    throw err;
  }
}

/**
 * The transaction already recorded under this merchant_ref_code, when the request is the same
 * one again (then it is answered as it was); 409 when the code was used for something else.
 */
export async function earlierTransaction(hub: Hub, caller: HubCaller, print: string, detail: TransactionDetail): Promise<ChargeResult | undefined> {
  const known = await findTransaction(hub.deps.db, caller.ownerId, detail.merchantRefCode);
  if (!known) return undefined;
  if (known.requestFingerprint !== print) throw new AppError('conflict', REUSED, { code: 'merchant_ref_code_reused' });
  const token = await findToken(hub.deps.db, caller.ownerId, known.tokenId);
  if (!token) throw new Error(`token ${known.tokenId} of transaction ${known.id} is missing`);
  const charge = await chargeOf(hub, known);
  // Settled: answered from our rows. Not charged yet or still in flight (another request, a crash
  // before Stripe answered): the core's replay, which asks Stripe and charges once at most.
  if (charge && charge.status !== 'created') return { token, transaction: known, charge, refunds: await refundsOf(hub, charge) };
  return chargeRecorded(hub, token, known);
}

/**
 * Charges a token for a transaction, once per merchant_ref_code: the same request again (also
 * concurrently) answers the same transaction and Stripe is charged once; the code reused with
 * other content is a 409. `Total` (amount + service_charge) is what Stripe charges.
 */
export async function chargeToken(
  hub: Hub,
  caller: HubCaller,
  vendor: Vendor,
  token: Token,
  detail: TransactionDetail,
  options: { fingerprintWithToken: boolean },
): Promise<ChargeResult> {
  const print = detailFingerprint({ vendorId: vendor.id, tokenId: options.fingerprintWithToken ? token.id : null, detail });
  const earlier = await earlierTransaction(hub, caller, print, detail);
  if (earlier) return earlier;
  if (token.vendorId !== vendor.id) throw new AppError('not_found', 'Unknown token');
  // A 3-D Secure token is read again first: its authorization may have lapsed, or its webhook be late.
  const current = token.kind === '3ds' ? await refreshThreeDSecureToken(hub, token) : token;
  if (!isChargeable(current)) throw new AppError('conflict', `The token cannot be charged: it is ${current.status}`, { code: 'token_not_chargeable' });
  if (current.kind === '3ds') {
    if (detail.currency !== current.currency)
      throw validationFailed([{ field: 'transaction_detail.currency', message: `must be ${current.currency}, the currency the card was authorized in` }]);
    if (detail.total > (current.amount ?? 0))
      throw validationFailed([{ field: 'transaction_detail.amount', message: 'amount + service_charge exceeds the authorized amount' }]);
  }

  let inserted;
  try {
    inserted = await insertTransactionOnce(
      hub.deps.db,
      {
        ownerId: caller.ownerId,
        vendorId: vendor.id,
        tokenId: token.id,
        merchantRefCode: detail.merchantRefCode,
        requestFingerprint: print,
        amount: detail.amount,
        serviceCharge: detail.serviceCharge,
        total: detail.total,
        currency: detail.currency,
        description: detail.description,
        firstName: detail.firstName,
        lastName: detail.lastName,
        mobile: detail.mobile,
        email: detail.email,
        lang: detail.lang,
        sendEmail: detail.sendEmail,
        paymentMethod: detail.paymentMethod,
        webhookUrl: detail.webhookUrl,
        oneTimeToken: current.kind === '3ds',
      },
      hub.deps.clock.now(),
    );
  } catch (err) {
    // Another merchant_ref_code took this 3-D Secure token first (at the same moment).
    if (isUniqueViolation(err)) throw new AppError('conflict', 'The token was already charged by another transaction', { code: 'token_not_chargeable' });
    throw err;
  }
  const { transaction, created } = inserted;
  if (!created && transaction.requestFingerprint !== print) throw new AppError('conflict', REUSED, { code: 'merchant_ref_code_reused' });
  if (!created) {
    // The same request at the same moment: charged with the transaction's own token, as the first one is.
    const own = transaction.tokenId === current.id ? current : await findToken(hub.deps.db, caller.ownerId, transaction.tokenId);
    if (!own) throw new Error(`token ${transaction.tokenId} of transaction ${transaction.id} is missing`);
    return chargeRecorded(hub, own, transaction);
  }
  const locale = detail.lang ? stripeLocaleOf(detail.lang) : undefined;
  // A token made just now for this charge already has its language; an earlier one is told now.
  if (locale && options.fingerprintWithToken && current.customerRef) {
    await setCustomerLanguages(hub.deps, { ownerId: caller.ownerId, stripeAccount: current.stripeAccount, customerRef: current.customerRef }, [locale]);
  }
  return chargeRecorded(hub, current, transaction);
}

async function chargeRecorded(hub: Hub, token: Token, tx: HubTransaction): Promise<ChargeResult> {
  if (!token.customerRef) throw new AppError('conflict', 'This token cannot be charged', { code: 'token_not_chargeable' });
  if (token.kind === '3ds') return captureRecorded(hub, token, tx);
  const charge = await chargeSavedCard(hub.deps, {
    channel: 'hub',
    reference: tx.merchantRefCode,
    customer: { ownerId: tx.ownerId, stripeAccount: token.stripeAccount, customerRef: token.customerRef },
    amount: { minor: tx.total, currency: tx.currency as Charge['currency'] },
    description: tx.description,
    ...(tx.sendEmail && tx.email ? { receiptEmail: tx.email } : {}),
  });
  await bindCharge(hub.deps.db, tx.id, charge.id);
  hub.deps.logger.info({ merchantId: tx.ownerId, merchantRefCode: tx.merchantRefCode, chargeId: charge.id, status: charge.status }, 'hub transaction charged');
  return { token, transaction: { ...tx, chargeId: charge.id }, charge, refunds: [] };
}

/** A 3-D Secure token is charged by capturing its authorization; it is then used. */
async function captureRecorded(hub: Hub, token: Token, tx: HubTransaction): Promise<ChargeResult> {
  const charge = await captureAuthorization(hub.deps, {
    channel: 'hub',
    reference: tx.merchantRefCode,
    customer: { ownerId: tx.ownerId, stripeAccount: token.stripeAccount, customerRef: token.customerRef as string },
    paymentIntentId: token.paymentIntentId as string,
    amount: { minor: tx.total, currency: tx.currency as Charge['currency'] },
    description: tx.description,
  });
  await bindCharge(hub.deps.db, tx.id, charge.id);
  const used = charge.status === 'succeeded' && (await updateToken(hub.deps.db, token.id, ['verified', 'skipped'], { status: 'used' }, hub.deps.clock.now()));
  hub.deps.logger.info(
    { merchantId: tx.ownerId, merchantRefCode: tx.merchantRefCode, chargeId: charge.id, status: charge.status },
    'hub authorization captured',
  );
  return { token: used ? { ...token, status: 'used' } : token, transaction: { ...tx, chargeId: charge.id }, charge, refunds: [] };
}

/** A merchant's transaction by merchant_ref_code, with its charge as it stands. */
export async function readTransaction(hub: Hub, caller: HubCaller, merchantRefCode: string): Promise<ChargeResult> {
  const tx = await findTransaction(hub.deps.db, caller.ownerId, merchantRefCode);
  if (!tx) throw new AppError('not_found', 'Unknown transaction');
  const token = await findToken(hub.deps.db, caller.ownerId, tx.tokenId);
  if (!token) throw new Error(`token ${tx.tokenId} of transaction ${tx.id} is missing`);
  const charge = await chargeOf(hub, tx);
  return { token, transaction: tx, charge, refunds: await refundsOf(hub, charge) };
}
