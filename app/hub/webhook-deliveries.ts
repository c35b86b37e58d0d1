import { AppError } from '../shared/app-error';
import type { HubCaller } from './hub-auth';
import type { Hub } from './hub-context';
import { DELIVERY_GIVE_UP_MS } from './webhook-outbox';

export interface DeliveryView {
  id: number;
  webhook_id: string;
  event_type: string;
  /** The transaction's; '' for a token's signal. */
  merchant_ref_code: string;
  /** The token of a token's signal, else null. */
  token: string | null;
  url: string;
  method: string;
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  created_at: string;
  delivered_at: string | null;
}

const toView = (r: Record<string, unknown>): DeliveryView => ({
  id: Number(r.id),
  webhook_id: String(r.webhook_id),
  event_type: String(r.event_type),
  merchant_ref_code: (r.merchant_ref_code as string | null) ?? '',
  token: (r.token_id as string | null) ?? null,
  url: String(r.url),
  method: String(r.method),
  state: String(r.state),
  attempts: Number(r.attempts),
  last_status: r.last_status == null ? null : Number(r.last_status),
  last_error: (r.last_error as string | null) ?? null,
  last_latency_ms: r.last_latency_ms == null ? null : Number(r.last_latency_ms),
  created_at: new Date(r.created_at as string).toISOString(),
  delivered_at: r.delivered_at == null ? null : new Date(r.delivered_at as string).toISOString(),
});

const deliveries = (hub: Hub, ownerId: string) =>
  hub.deps
    .db('hub_webhook_deliveries as d')
    .leftJoin('hub_transactions as t', 't.id', 'd.transaction_id')
    .where('d.owner_id', ownerId)
    .select('d.*', 't.merchant_ref_code');

/** The merchant's latest 100 webhook deliveries, newest first, with each one's last attempt. */
export async function listDeliveries(hub: Hub, caller: HubCaller): Promise<DeliveryView[]> {
  return (await deliveries(hub, caller.ownerId).orderBy('d.id', 'desc').limit(100)).map(toView);
}

/** Sends a delivery again now (whatever its state), with the same webhook-id so the merchant can tell it is the same signal. */
export async function resendDelivery(hub: Hub, caller: HubCaller, id: number): Promise<DeliveryView> {
  const now = hub.deps.clock.now();
  const updated = await hub.deps
    .db('hub_webhook_deliveries')
    .where({ id, owner_id: caller.ownerId })
    .update({ state: 'pending', next_check_at: now, check_failures: 0, give_up_at: new Date(now.getTime() + DELIVERY_GIVE_UP_MS), updated_at: now });
  if (updated === 0) throw new AppError('not_found', 'Unknown delivery');
  hub.deps.logger.info({ merchantId: caller.ownerId, deliveryId: id }, 'merchant webhook re-sent');
  return toView(await deliveries(hub, caller.ownerId).where('d.id', id).first());
}
