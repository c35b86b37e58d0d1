import type { NamedDoors, StripeDoor } from '../stripe';
import { HANDLED_STRIPE_EVENTS } from '../payments';
import type { Hub } from './hub-context';
import { THREE_D_SECURE_EVENTS } from './three-d-secure-service';
import { findVendorById, listVendors } from './vendor-repository';

/** The events to select on a vendor's Stripe webhook endpoint: the seed's four and those the service acts on. */
export const VENDOR_WEBHOOK_EVENTS: readonly string[] = [
  ...new Set(['invoice.paid', 'charge.expired', 'charge.failed', 'charge.refunded', ...HANDLED_STRIPE_EVENTS, ...THREE_D_SECURE_EVENTS]),
].sort();

/** Where a vendor's Stripe account sends its events (to paste into the Stripe Dashboard). */
export const vendorWebhookUrl = (hub: Hub, vendorId: string): string => `${hub.deps.config.publicBaseUrl}/api/v1/hook/stripe/${vendorId}`;

/** Each vendor's webhook endpoint `/api/v1/hook/stripe/{vendor_id}`, verified with that vendor's secret. */
export function vendorWebhookDoors(hub: Hub): NamedDoors {
  return {
    async byName(vendorId) {
      const vendor = await findVendorById(hub.deps.db, vendorId);
      return vendor && !vendor.disabledAt ? hub.vendorDoors.doorFor(vendor) : undefined;
    },
    async all() {
      const vendors = (await listVendors(hub.deps.db)).filter((v) => !v.disabledAt);
      const doors = await Promise.allSettled(vendors.map((v) => hub.vendorDoors.doorFor(v)));
      return doors.filter((d): d is PromiseFulfilledResult<StripeDoor> => d.status === 'fulfilled').map((d) => d.value);
    },
  };
}
