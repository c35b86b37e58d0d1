import { chargeSavedCard, readCharge, type Charge } from '../payments';
import { AppError, isAppError } from '../shared/app-error';
import type { HubCaller } from './hub-auth';
import type { Hub } from './hub-context';
import { isChargeable } from './hub-presenters';
import { findToken, type Token } from './token-repository';
import { detailFingerprint, type TransactionDetail } from './transaction-detail';
import { bindCharge, findTransaction, insertTransactionOnce, type HubTransaction } from './transaction-repository';
import type { Vendor } from './vendor-repository';

export interface ChargeResult {
  token: Token;
  transaction: HubTransaction;
  charge: Charge | undefined;
}

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
  // Recorded but never charged (a crash between the two): charging now is the same, once-only charge.
  return charge ? { token, transaction: known, charge } : chargeRecorded(hub, token, known);
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
  if (!isChargeable(token)) throw new AppError('conflict', `The token cannot be charged: it is ${token.status}`, { code: 'token_not_chargeable' });

  const { transaction, created } = await insertTransactionOnce(
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
    },
    hub.deps.clock.now(),
  );
  if (!created && transaction.requestFingerprint !== print) throw new AppError('conflict', REUSED, { code: 'merchant_ref_code_reused' });
  return chargeRecorded(hub, token, transaction);
}

async function chargeRecorded(hub: Hub, token: Token, tx: HubTransaction): Promise<ChargeResult> {
  if (token.kind !== 'card' || !token.customerRef) throw new AppError('conflict', 'This token cannot be charged here', { code: 'token_not_chargeable' });
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
  return { token, transaction: { ...tx, chargeId: charge.id }, charge };
}

/** A merchant's transaction by merchant_ref_code, with its charge as it stands. */
export async function readTransaction(hub: Hub, caller: HubCaller, merchantRefCode: string): Promise<ChargeResult> {
  const tx = await findTransaction(hub.deps.db, caller.ownerId, merchantRefCode);
  if (!tx) throw new AppError('not_found', 'Unknown transaction');
  const token = await findToken(hub.deps.db, caller.ownerId, tx.tokenId);
  if (!token) throw new Error(`token ${tx.tokenId} of transaction ${tx.id} is missing`);
  return { token, transaction: tx, charge: await chargeOf(hub, tx) };
}
