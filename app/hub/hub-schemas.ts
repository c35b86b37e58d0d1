import { z } from 'zod';
import { VENDOR_FIELDS } from './hub-admin-service';
import {
  evenWithFailedFields,
  failedFields,
  objectOf,
  optionalBoolean,
  optionalDecimal,
  optionalObject,
  optionalText,
  optionalUrl,
  optionalWord,
  presentText,
  requiredDecimal,
  requiredInteger,
  requiredObject,
  requiredText,
  requiredUrl,
  requiredWord,
} from './hub-fields';
import { privateWebhookProblem } from './private-address';
import { REF_CODE, transactionDetailSchema } from './transaction-detail';
import { toMinorUnits } from '../payments';
import { isAppError } from '../shared/app-error';

/**
 * The Hub API's requests and answers as zod schemas: the routes validate with the request
 * schemas, the presenters are typed by the answer schemas, and GET /api/v1/openapi.json is
 * generated from both (hub-openapi.ts). One source of truth: a field changed here changes the
 * check, the type and the document together.
 */

export const PAYMENT_METHOD_ID = /^pm_[0-9A-Za-z_]{4,250}$/;
export const VENDOR_ID = /^[0-9A-Za-z_-]{1,32}$/;
export const TOKEN_ID = /^[0-9A-Za-z_-]{1,40}$/;

const paymentVendor = () =>
  requiredText({ pattern: VENDOR_ID, patternMessage: 'is not a payment vendor id' }).meta({
    description: "The id of one of the merchant's payment vendors (its Stripe account).",
    examples: ['ven_demo'],
  });
const tokenId = () => requiredText({ pattern: TOKEN_ID, patternMessage: 'is not a token' }).meta({ examples: ['tok_3f2a9c1b7d4e6f80'] });

/** The seed's raw card. Accepted only for a vendor allowed to send raw card data (and in the emulator). */
const creditCard = objectOf({
  account_number: requiredText({ max: 23 })
    .refine((t) => /^\d{12,19}$/.test(t.replace(/[ -]/g, '')), 'must be 12 to 19 digits')
    .transform((t) => t.replace(/[ -]/g, ''))
    .meta({ description: '12 to 19 digits; spaces and dashes are ignored. Never stored, logged or echoed.', examples: ['4242424242424242'] }),
  exp_month: requiredInteger(1, 12).meta({ examples: ['12'] }),
  exp_year: requiredInteger(2000, 2100).meta({ examples: [2030] }),
  cvn: optionalText({ max: 4, pattern: /^\d{3,4}$/, patternMessage: 'must be 3 or 4 digits' }).meta({ examples: ['123'] }),
  account_name: optionalText({ max: 200 }),
  email: optionalText({ max: 320 }),
  phone: optionalText({ max: 64 }),
});

/** A card body: `payment_method` (made in the browser with Stripe.js) wins over `credit_card`, which is then not read at all. */
function cardBody<S extends z.ZodRawShape>(shape: S, refine?: (body: z.output<z.ZodObject<S>>, ctx: z.RefinementCtx, failed: Set<string>) => void) {
  const body = z
    .object({
      payment_vendor: paymentVendor(),
      payment_method: presentText({ pattern: PAYMENT_METHOD_ID, patternMessage: 'must be a Stripe PaymentMethod id (pm_...)' }).meta({
        description: 'A PaymentMethod id made in the browser with Stripe.js, in place of credit_card (the PCI-light way).',
        examples: ['pm_card_visa'],
      }),
      credit_card: optionalObject(creditCard),
      ...shape,
    })
    .superRefine((b, ctx) => {
      const failed = failedFields(ctx);
      const card = b as { payment_method?: unknown; credit_card?: unknown };
      if (card.payment_method === undefined && card.credit_card === undefined && !failed.has('payment_method') && !failed.has('credit_card'))
        ctx.addIssue({ code: 'custom', path: ['credit_card'], message: 'is required' });
      refine?.(b as unknown as z.output<z.ZodObject<S>>, ctx, failed);
    }, evenWithFailedFields);
  return z.preprocess((v) => {
    if (!v || typeof v !== 'object' || !Object.hasOwn(v, 'payment_method')) return v;
    const { credit_card: _ignored, ...rest } = v as Record<string, unknown>;
    return (v as Record<string, unknown>).payment_method == null ? v : rest;
  }, body);
}

/** The request schemas; those holding a webhook_url (a `transaction_detail`'s, a 3-D Secure token's) refuse private webhook hosts when asked to. */
export function hubRequestSchemas(options: { refusePrivateWebhooks?: boolean } = {}) {
  const detail = transactionDetailSchema(options);
  return {
    transactionDetail: detail,
    vendorOnly: z.object({ payment_vendor: paymentVendor() }),
    tokenize: cardBody({
      transaction_detail: optionalObject(detail).meta({ description: 'With it, the card is tokenized and charged in one call.' }),
    }),
    tokenize3ds: cardBody(
      {
        amount: requiredDecimal().meta({ description: 'The amount to authorize, in major units.', examples: [10000] }),
        currency: requiredText({ max: 3 }).meta({ examples: ['IDR'] }),
        return_url: requiredUrl().meta({ description: 'Where the customer lands after the 3-D Secure challenge.', examples: ['https://shop.example/paid'] }),
        webhook_url: optionalUrl().meta({
          description:
            "Signalled on each later status change of the token (token.verified, token.failed, token.skipped, token.used); an addition to the seed's request.",
        }),
      },
      (b, ctx, failed) => {
        const webhookProblem = failed.has('webhook_url') ? undefined : privateWebhookProblem(b.webhook_url, options.refusePrivateWebhooks);
        if (webhookProblem) ctx.addIssue({ code: 'custom', path: ['webhook_url'], message: webhookProblem });
        if (failed.has('amount') || failed.has('currency') || b.amount === undefined || !b.currency) return;
        try {
          toMinorUnits(b.amount, b.currency);
        } catch (err) {
          const field = isAppError(err) && err.code === 'currency' ? 'currency' : 'amount';
          ctx.addIssue({ code: 'custom', path: [field], message: isAppError(err) ? err.message : 'is not valid' });
        }
      },
    ),
    tokenCheck: z.object({ payment_vendor: paymentVendor(), token: tokenId() }),
    charge: z.object({ payment_vendor: paymentVendor(), token: tokenId(), transaction_detail: requiredObject(detail) }),
    refund: z.object({
      refund_ref_code: requiredText({ pattern: REF_CODE, patternMessage: 'must be printable text without spaces' }).meta({
        description: "Unique per merchant: the refund's idempotency key.",
        examples: ['INV-2026-0001-r1'],
      }),
      amount: optionalDecimal().meta({ description: 'In major units; without it the rest of the transaction is refunded.', examples: [10] }),
      reason: optionalText({ max: 500 }).meta({
        description: "Kept and shown; sent to Stripe as its reason when it is one of Stripe's (duplicate, fraudulent, requested_by_customer).",
      }),
    }),
    merchant: z.object({
      name: requiredText({ max: 200 }).meta({ examples: ['Hotel Merdeka'] }),
      webhook_method: optionalWord(['GET', 'POST'], 'must be GET or POST').meta({
        description: "How the merchant's webhook_url is signalled: GET (the seed's, the default) or POST with a JSON body.",
      }),
    }),
    key: z.object({ kind: requiredWord(['public', 'secret'], 'must be public or secret') }),
    vendor: z.object({
      name: optionalText({ max: 200 }),
      stripe_secret_key: optionalText(VENDOR_FIELDS.stripe_secret_key),
      stripe_publishable_key: optionalText(VENDOR_FIELDS.stripe_publishable_key),
      stripe_webhook_secret: optionalText(VENDOR_FIELDS.stripe_webhook_secret),
      allow_raw_card_data: optionalBoolean().meta({ description: 'The Stripe account may receive raw card numbers (PCI DSS SAQ D).' }),
    }),
    webhookSecret: z.object({
      stripe_webhook_secret: requiredText(VENDOR_FIELDS.stripe_webhook_secret),
    }),
  };
}

export type HubRequestSchemas = ReturnType<typeof hubRequestSchemas>;

// ---- Answers ----

const isoTime = () => z.string().meta({ format: 'date-time', examples: ['2026-12-03T10:00:00.000Z'] });

export const tokenStatusSchema = z.enum(['review', 'verified', 'failed', 'fraud', 'skipped', 'used']).meta({
  description: '`review` needs 3-D Secure, `verified` and `skipped` can be charged, `used` is a one-time token already charged.',
});

export const refundSchema = z.object({
  ID: z.string(),
  RefundRefCode: z.string(),
  Amount: z.number(),
  Currency: z.string(),
  Status: z.enum(['pending', 'succeeded', 'failed', 'canceled']),
  FailReason: z.string(),
  Reason: z.string(),
  VendorRefundId: z.string(),
  CreatedAt: isoTime(),
});

export const transactionSchema = z.object({
  ID: z.string(),
  ClientId: z.string(),
  Description: z.string(),
  FirstName: z.string(),
  LastName: z.string(),
  Amount: z.number().meta({ description: 'Major units, as the merchant sent them.' }),
  ServiceCharge: z.number(),
  Mobile: z.string(),
  Currency: z.string(),
  Email: z.string(),
  PaymentMethod: z.string().nullable(),
  PaymentVendor: z.string(),
  Status: z.enum(['pending', 'paid', 'failed', 'expired', 'partially_refunded', 'refunded']),
  Total: z.number().meta({ description: 'Amount + ServiceCharge: what the card is charged.' }),
  MerchantRefCode: z.string(),
  WebhookUrl: z.string(),
  PaymentFailReason: z.string(),
  Lang: z.string(),
  SendEmail: z.boolean(),
  Enable3dSecure: z.boolean(),
  PaymentLinkType: z.enum(['', '3DS_AUTHENTICATION']),
  PaymentLink: z.string().optional().meta({ description: 'Where to send the customer when the charge needs them to authenticate.' }),
  ExpiredAt: isoTime(),
  CreatedAt: isoTime(),
  UpdatedAt: isoTime(),
  VendorId: z.string(),
  VendorOrderId: z.string(),
  VendorPaymentId: z.string(),
  VendorPaidAt: isoTime().meta({ description: "Go's zero time (0001-01-01T00:00:00Z) until paid, as the seed shows it." }),
  VendorPaymentChannel: z.string(),
  VendorPaymentMethod: z.string(),
  Refunds: z.array(refundSchema).nullable(),
});

export const tokenAnswerSchema = z.object({ token: z.string(), status: tokenStatusSchema, transaction: transactionSchema.nullable() });
export const token3dsAnswerSchema = z.object({
  token: z.string(),
  status: tokenStatusSchema,
  auth_url: z.string().nullable().meta({ description: 'Where to send the customer for the 3-D Secure challenge (when status is review).' }),
});
export const tokenCheckSchema = z.object({ chargeable: z.boolean(), description: z.string(), status: tokenStatusSchema, token: z.string() });
export const chargeAnswerSchema = z.object({ token: z.string(), status: tokenStatusSchema, transaction: transactionSchema });
export const refundAnswerSchema = z.object({ refund: refundSchema, transaction: transactionSchema });

export const deliverySchema = z.object({
  id: z.number().int(),
  webhook_id: z.string(),
  event_type: z.string().meta({ description: 'transaction.<status>, refund.<status> or token.<status>.' }),
  merchant_ref_code: z.string().meta({ description: "The transaction's; empty for a token's signal." }),
  token: z.string().nullable().meta({ description: "The token of a token's signal, else null." }),
  url: z.string(),
  method: z.string(),
  state: z.string(),
  attempts: z.number().int(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  last_latency_ms: z.number().nullable(),
  created_at: isoTime(),
  delivered_at: isoTime().nullable(),
});

export const newMerchantSchema = z.object({ id: z.string(), name: z.string(), public_key: z.string(), secret_key: z.string(), webhook_secret: z.string() });
export const merchantSchema = z.object({
  id: z.string(),
  name: z.string(),
  created_at: isoTime(),
  keys: z.array(
    z.object({ id: z.number().int(), kind: z.enum(['public', 'secret']), prefix: z.string(), created_at: isoTime(), revoked_at: isoTime().nullable() }),
  ),
});
export const issuedKeySchema = z.object({ id: z.number().int(), kind: z.enum(['public', 'secret']), key: z.string() });
export const vendorSchema = z.object({
  id: z.string(),
  merchant_id: z.string(),
  name: z.string(),
  stripe_account: z.string().nullable(),
  livemode: z.boolean(),
  secret_key_hint: z.string(),
  publishable_key: z.string().nullable(),
  webhook_secret_set: z.boolean(),
  webhook_url: z.string().meta({ description: 'Paste into the Stripe Dashboard (Developers, Webhooks) with webhook_events.' }),
  webhook_events: z.array(z.string()),
  allow_raw_card_data: z.boolean(),
  sandbox: z.boolean(),
  created_at: isoTime(),
  disabled_at: isoTime().nullable(),
});

/** The Hub's envelope around an answer's data. */
export const envelope = <T extends z.ZodType>(data: T) => z.object({ success: z.boolean(), message: z.string(), data });

export const fieldErrorSchema = z.object({
  field: z.string().meta({ examples: ['transaction_detail.amount'] }),
  message: z.string().meta({ examples: ['Invalid amount: JPY has no decimals'] }),
});
export const errorSchema = z.object({
  success: z.literal(false),
  message: z.string().meta({ examples: ['Validation failed'] }),
  data: z.null(),
  errors: z.array(fieldErrorSchema).optional().meta({ description: 'With 400 Validation failed: one entry per bad field.' }),
  error_id: z.string().optional().meta({ description: 'With 500: finds the log line.' }),
});

export const stripeWebhookAnswerSchema = z.object({
  received: z.boolean().optional(),
  duplicate: z.boolean().optional(),
  processed: z.boolean().optional(),
  errorId: z.string().optional(),
  error: z.string().optional(),
});

export type TransactionAnswer = z.output<typeof transactionSchema>;
export type RefundAnswer = z.output<typeof refundSchema>;
export type TokenCheckAnswer = z.output<typeof tokenCheckSchema>;
