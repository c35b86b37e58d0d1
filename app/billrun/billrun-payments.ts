import type { Request, Response } from 'express';
import { chargeSavedCard, formatMinor, refundCharge, toMinorUnits, type Charge, type Refund } from '../payments';
import type { Deps } from '../shared/deps';
import { clientMessage, hasNoTimestamp, isNumericAid, readAuthenticatedData } from './billrun-authenticated';
import { BILLRUN_OWNER, billrunCustomer } from './billrun-service';
import { failure, Messages, success, thrownError } from './billrun-wire';

/** BillRun's payment statuses: what its `pay()` / `credit()` report back to the billing run. */
type BillrunPaymentStatus = 'Completed' | 'Pending' | 'Rejected';

function billrunChargeStatus(charge: Charge): BillrunPaymentStatus {
  switch (charge.status) {
    case 'succeeded':
      return 'Completed';
    case 'created':
    case 'processing':
    case 'requires_action':
      return 'Pending';
    case 'failed':
    case 'canceled':
      return 'Rejected';
  }
}

function billrunRefundStatus(refund: Refund): BillrunPaymentStatus {
  switch (refund.status) {
    case 'succeeded':
      return 'Completed';
    case 'created':
    case 'pending':
    case 'requires_action':
      return 'Pending';
    case 'failed':
    case 'canceled':
      return 'Rejected';
  }
}

const REFERENCE = /^[\x21-\x7e]{1,255}$/;

/** A bill id: printable text, or an integer as PHP clients often send it. */
function referenceOf(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  return typeof text === 'string' && REFERENCE.test(text) ? text : undefined;
}

function chargeDetails(deps: Deps, charge: Charge) {
  const status = billrunChargeStatus(charge);
  return {
    status,
    transaction_id: charge.paymentIntentId,
    reference: charge.reference,
    amount: formatMinor(charge.amount, charge.currency),
    currency: charge.currency,
    ...(status === 'Rejected' ? { decline_code: charge.failureCode, message: charge.failureMessage } : {}),
    ...(charge.status === 'requires_action' && charge.authToken
      ? { message: 'The card needs the customer to authenticate', authentication_url: `${deps.config.publicBaseUrl}/pay/authenticate/${charge.authToken}` }
      : {}),
  };
}

/**
 * `pay` and `credit`: BillRun's gateway pay() and credit() as endpoints, authenticated like
 * getRequest. `reference` (the bill or charge id) makes both idempotent.
 */
export function createPaymentActions(deps: Deps) {
  const pay = async (req: Request, res: Response): Promise<void> => {
    const v = readAuthenticatedData(deps, req, res, { timestamp: 'checked-in-order' });
    if (!v) return;
    if (!isNumericAid(v.aid)) return void res.json(thrownError(Messages.numericAid));
    if (hasNoTimestamp(v)) return void res.json(thrownError(Messages.invalidArguments));
    const reference = referenceOf(v.reference);
    if (!reference) return void res.json(thrownError('need to pass reference (1-255 printable characters)'));
    let amount;
    try {
      amount = toMinorUnits(v.amount, v.currency);
    } catch (err) {
      return void res.json(thrownError(clientMessage(req, err)));
    }
    try {
      const door = await deps.stripeAccounts.defaultAccount();
      const charge = await chargeSavedCard(deps, { channel: 'billrun', reference, customer: billrunCustomer(Number(v.aid), door), amount });
      res.json(success(chargeDetails(deps, charge)));
    } catch (err) {
      res.json(failure(clientMessage(req, err)));
    }
  };

  const credit = async (req: Request, res: Response): Promise<void> => {
    const v = readAuthenticatedData(deps, req, res, { timestamp: 'checked-in-order' });
    if (!v) return;
    if (hasNoTimestamp(v)) return void res.json(thrownError(Messages.invalidArguments));
    if (typeof v.transaction_id !== 'string' || !/^pi_[A-Za-z0-9_]{1,250}$/.test(v.transaction_id))
      return void res.json(thrownError('need to pass transaction_id'));
    const reference = referenceOf(v.reference);
    if (!reference) return void res.json(thrownError('need to pass reference (1-255 printable characters)'));
    const amount = v.amount === undefined || v.amount === null || v.amount === '' ? undefined : v.amount;
    if (amount !== undefined && typeof amount !== 'string' && typeof amount !== 'number')
      return void res.json(thrownError('Invalid amount: expected a positive decimal number'));
    try {
      const { refund, charge } = await refundCharge(deps, { ownerId: BILLRUN_OWNER, channel: 'billrun', reference, paymentIntentId: v.transaction_id, amount });
      const status = billrunRefundStatus(refund);
      res.json(
        success({
          status,
          refund_id: refund.stripeRefundId,
          transaction_id: charge.paymentIntentId,
          reference: refund.reference,
          amount: formatMinor(refund.amount, charge.currency),
          currency: charge.currency,
          ...(status === 'Rejected' ? { message: refund.failureReason } : {}),
        }),
      );
    } catch (err) {
      res.json(failure(clientMessage(req, err)));
    }
  };

  return { pay, credit };
}
