import { readRefund, refundCharge, type Refund } from '../payments';
import { AppError, isAppError } from '../shared/app-error';
import type { HubCaller } from './hub-auth';
import type { Hub } from './hub-context';
import { validationFailed } from './hub-http';
import { readTransaction, type ChargeResult } from './transaction-service';

export interface RefundAnswer {
  refund: Refund;
  result: ChargeResult;
}

/**
 * Refunds a paid transaction, fully (no amount: the rest) or in part, once per refund_ref_code,
 * through the core: the sum of refunds never exceeds Total, also when requests race.
 */
export async function refundTransaction(
  hub: Hub,
  caller: HubCaller,
  merchantRefCode: string,
  input: { refundRefCode: string; amount?: string; reason?: string },
): Promise<RefundAnswer> {
  const before = await readTransaction(hub, caller, merchantRefCode);
  const paymentIntentId = before.charge?.paymentIntentId;
  if (!before.charge || !paymentIntentId) throw new AppError('conflict', 'Only a paid transaction can be refunded', { code: 'not_paid' });
  let refund: Refund;
  try {
    ({ refund } = await refundCharge(hub.deps, {
      ownerId: caller.ownerId,
      channel: 'hub',
      reference: input.refundRefCode,
      paymentIntentId,
      ...(input.amount !== undefined ? { amount: input.amount } : {}),
      ...(input.reason ? { reason: input.reason } : {}),
    }));
  } catch (err) {
    if (isAppError(err) && err.kind === 'invalid_input' && err.code === 'charge_not_completed')
      throw new AppError('conflict', 'Only a paid transaction can be refunded', { code: 'not_paid' });
    if (isAppError(err) && err.kind === 'invalid_input') throw validationFailed([{ field: 'amount', message: err.message }]);
    if (isAppError(err) && err.code === 'reference_reused')
      throw new AppError('conflict', 'refund_ref_code was already used for a different refund', { code: 'refund_ref_code_reused' });
    throw err;
  }
  hub.deps.logger.info(
    { merchantId: caller.ownerId, merchantRefCode, refundRefCode: input.refundRefCode, refundId: refund.id, status: refund.status },
    'hub refund',
  );
  return { refund, result: await readTransaction(hub, caller, merchantRefCode) };
}

/** A refund of this merchant's transaction by its refund_ref_code. */
export async function readTransactionRefund(hub: Hub, caller: HubCaller, merchantRefCode: string, refundRefCode: string): Promise<RefundAnswer> {
  const result = await readTransaction(hub, caller, merchantRefCode);
  const refund = await readRefund(hub.deps, caller.ownerId, refundRefCode);
  if (!refund || !result.charge || refund.chargeId !== result.charge.id) throw new AppError('not_found', 'Unknown refund');
  return { refund, result };
}
