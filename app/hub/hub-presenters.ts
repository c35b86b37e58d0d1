import { formatMinor, type Charge, type Currency, type Refund } from '../payments';
import type { RefundAnswer, TokenCheckAnswer, TransactionAnswer } from './hub-schemas';
import type { Token } from './token-repository';
import type { HubTransaction } from './transaction-repository';

/** Go's zero time, which the seed shows for dates that are not set. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export type HubTransactionStatus = 'pending' | 'paid' | 'failed' | 'expired' | 'partially_refunded' | 'refunded';

/** The core's charge status as the seed's transaction status; a paid one refunded in part or whole says so. */
export function transactionStatus(charge: Charge | undefined, refunds: readonly Refund[] = []): HubTransactionStatus {
  if (!charge) return 'pending';
  switch (charge.status) {
    case 'succeeded': {
      const refunded = refunds.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0);
      return refunded === 0 ? 'paid' : refunded >= charge.amount ? 'refunded' : 'partially_refunded';
    }
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'expired';
    case 'created':
    case 'processing':
    case 'requires_action':
      return 'pending';
  }
}

/** Minor units as the seed's JSON number of major units (IDR 10000000 -> 100000, USD 1999 -> 19.99). */
const major = (minor: number, currency: string): number => Number(formatMinor(minor, currency as Currency));

/** The transaction object with every PascalCase field of the seed. */
export type HubRefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

export const refundStatus = (refund: Refund): HubRefundStatus => hubRefundStatus(refund.status);

export function hubRefundStatus(status: Refund['status']): HubRefundStatus {
  switch (status) {
    case 'created':
    case 'pending':
    case 'requires_action':
      return 'pending';
    case 'succeeded':
    case 'failed':
    case 'canceled':
      return status;
  }
}

/** A refund in the transaction's PascalCase style. */
export function refundView(refund: Refund, currency: string): RefundAnswer {
  return {
    ID: String(refund.id),
    RefundRefCode: refund.reference ?? '',
    Amount: major(refund.amount, currency),
    Currency: currency,
    Status: refundStatus(refund),
    FailReason: refund.failureReason ?? '',
    Reason: refund.reason ?? '',
    VendorRefundId: refund.stripeRefundId ?? '',
    CreatedAt: refund.createdAt.toISOString(),
  };
}

export function transactionView(
  tx: HubTransaction,
  charge: Charge | undefined,
  token: Token | undefined,
  options: { authenticationUrl?: string; refunds?: readonly Refund[] } = {},
): TransactionAnswer {
  const refunds = options.refunds ?? [];
  const status = transactionStatus(charge, refunds);
  return {
    ID: String(tx.id),
    ClientId: tx.ownerId,
    Description: tx.description,
    FirstName: tx.firstName,
    LastName: tx.lastName,
    Amount: major(tx.amount, tx.currency),
    ServiceCharge: major(tx.serviceCharge, tx.currency),
    Mobile: tx.mobile,
    Currency: tx.currency,
    Email: tx.email,
    PaymentMethod: tx.paymentMethod,
    PaymentVendor: tx.vendorId,
    Status: status,
    Total: major(tx.total, tx.currency),
    MerchantRefCode: tx.merchantRefCode,
    WebhookUrl: tx.webhookUrl ?? '',
    PaymentFailReason: status === 'failed' || status === 'expired' ? (charge?.failureMessage ?? charge?.failureCode ?? '') : '',
    Lang: tx.lang,
    SendEmail: tx.sendEmail,
    Enable3dSecure: token?.kind === '3ds',
    PaymentLinkType: options.authenticationUrl ? '3DS_AUTHENTICATION' : '',
    ...(options.authenticationUrl ? { PaymentLink: options.authenticationUrl } : {}),
    ExpiredAt: ZERO_TIME,
    CreatedAt: tx.createdAt.toISOString(),
    UpdatedAt: (charge?.succeededAt && charge.succeededAt > tx.updatedAt ? charge.succeededAt : tx.updatedAt).toISOString(),
    VendorId: '',
    VendorOrderId: '',
    VendorPaymentId: charge?.paymentIntentId ?? '',
    VendorPaidAt: charge?.succeededAt?.toISOString() ?? ZERO_TIME,
    VendorPaymentChannel: token?.brand ? token.brand.toUpperCase() : '',
    VendorPaymentMethod: 'CREDIT_CARD',
    Refunds: refunds.length > 0 ? refunds.map((r) => refundView(r, tx.currency)) : null,
  };
}

const DESCRIPTIONS = new Map<Token['status'], string>([
  ['review', 'The token you requested was in review'],
  ['verified', 'The token you requested was verified and can be charged'],
  ['failed', 'The token you requested failed verification'],
  ['fraud', 'The token you requested was blocked as fraudulent'],
  ['skipped', 'The card does not support 3-D Secure; the token can be charged'],
  ['used', 'The token you requested was already used'],
]);

/** Only verified (and skipped: no 3-D Secure to do) tokens can be charged. */
export const isChargeable = (token: Token): boolean => token.status === 'verified' || token.status === 'skipped';

export function tokenStatusView(token: Token): TokenCheckAnswer {
  return { chargeable: isChargeable(token), description: DESCRIPTIONS.get(token.status) ?? token.status, status: token.status, token: token.id };
}
