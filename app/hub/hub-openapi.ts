import { z } from 'zod';
import type { MerchantView, NewMerchant, VendorView } from './hub-admin-service';
import type { DeliveryView } from './webhook-deliveries';
import {
  chargeAnswerSchema,
  deliverySchema,
  envelope,
  errorSchema,
  hubRequestSchemas,
  issuedKeySchema,
  merchantSchema,
  newMerchantSchema,
  refundAnswerSchema,
  refundSchema,
  stripeWebhookAnswerSchema,
  token3dsAnswerSchema,
  tokenAnswerSchema,
  tokenCheckSchema,
  tokenStatusSchema,
  transactionSchema,
  vendorSchema,
} from './hub-schemas';

/**
 * GET /api/v1/openapi.json: the Hub API as OpenAPI 3.1, generated from the zod schemas the routes
 * validate with (requests, `io: 'input'`: what a client may send) and the presenters are typed by
 * (answers, `io: 'output'`: what the Hub sends). Only the paths, statuses and words around them are
 * written here.
 */

type Json = Record<string, unknown>;
type Security = 'public' | 'secret' | 'admin' | 'none';

interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path template; the Express route is the same with `:name` for `{name}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  security: Security;
  /** Name of a request schema: the JSON body (or, for GET, the query). */
  body?: RequestName;
  query?: RequestName;
  params?: Record<string, string>;
  /** Status -> [description, answer schema name]; errors default to the error envelope. */
  answers: Record<number, [string, AnswerName?]>;
  rawBody?: { description: string };
  html?: boolean;
}

const requestSchemas = hubRequestSchemas();
const REQUESTS = {
  TransactionDetail: requestSchemas.transactionDetail,
  TokenizeRequest: requestSchemas.tokenize,
  Tokenize3dsRequest: requestSchemas.tokenize3ds,
  TokenCheckQuery: requestSchemas.tokenCheck,
  ChargeRequest: requestSchemas.charge,
  RefundRequest: requestSchemas.refund,
  MerchantRequest: requestSchemas.merchant,
  KeyRequest: requestSchemas.key,
  VendorRequest: requestSchemas.vendor,
  WebhookSecretRequest: requestSchemas.webhookSecret,
} as const;
type RequestName = keyof typeof REQUESTS;

const ANSWERS = {
  Transaction: transactionSchema,
  Refund: refundSchema,
  TokenStatus: tokenStatusSchema,
  Delivery: deliverySchema,
  Vendor: vendorSchema,
  Error: errorSchema,
  TokenizeAnswer: envelope(tokenAnswerSchema),
  Tokenize3dsAnswer: envelope(token3dsAnswerSchema),
  TokenCheckAnswer: envelope(tokenCheckSchema),
  ChargeAnswer: envelope(chargeAnswerSchema),
  TransactionAnswer: envelope(transactionSchema),
  RefundCreatedAnswer: envelope(refundAnswerSchema),
  RefundAnswer: envelope(refundSchema),
  DeliveriesAnswer: envelope(z.array(deliverySchema)),
  DeliveryAnswer: envelope(deliverySchema),
  NewMerchantAnswer: envelope(newMerchantSchema),
  MerchantsAnswer: envelope(z.array(merchantSchema)),
  IssuedKeyAnswer: envelope(issuedKeySchema),
  RevokedKeyAnswer: envelope(z.object({ id: z.number().int() })),
  VendorAnswer: envelope(vendorSchema),
  VendorsAnswer: envelope(z.array(vendorSchema)),
  DisabledVendorAnswer: envelope(z.object({ id: z.string() })),
  StripeWebhookAnswer: stripeWebhookAnswerSchema,
} as const;
type AnswerName = keyof typeof ANSWERS;

const REF = { merchantRefCode: 'The transaction_detail.merchant_ref_code of the charge.' };
const ADMIN = { id: 'The merchant id (mer_...).' };
const KEY_ERRORS: Operation['answers'] = { 401: ['Missing or unknown key'], 429: ['Rate limited: see Retry-After'], 500: ['Server went wrong'] };
const ADMIN_ERRORS: Operation['answers'] = { 401: ['Missing or wrong HUB_ADMIN_TOKEN'], 500: ['Server went wrong'] };

export const HUB_OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/api/v1/transactions/token',
    tag: 'Tokens',
    summary: 'Tokenize a card (and charge it, with transaction_detail)',
    description: 'Public or secret key. A raw credit_card only for a vendor allowed raw card data; payment_method (Stripe.js) always.',
    security: 'public',
    body: 'TokenizeRequest',
    answers: {
      200: ['Tokenize successfully / Tokenize and Charge Successfully', 'TokenizeAnswer'],
      400: ['Validation failed'],
      402: ['The card was declined (data.status failed or fraud; the transaction says why)', 'TokenizeAnswer'],
      404: ['Unknown payment_vendor'],
      409: ['merchant_ref_code reused with different content'],
      ...KEY_ERRORS,
    },
  },
  {
    method: 'post',
    path: '/api/v1/transactions/token/3ds',
    tag: 'Tokens',
    summary: 'Tokenize for a 3-D Secure charge',
    description: 'Authorizes amount with a requested challenge: status review and auth_url to send the customer to; return_url is where they land after.',
    security: 'public',
    body: 'Tokenize3dsRequest',
    answers: {
      200: ['Tokenize successfully', 'Tokenize3dsAnswer'],
      400: ['Validation failed'],
      402: ['The card was declined', 'Tokenize3dsAnswer'],
      404: ['Unknown payment_vendor'],
      ...KEY_ERRORS,
    },
  },
  {
    method: 'get',
    path: '/api/v1/transactions/token/3ds/return/{tokenId}',
    tag: 'Tokens',
    summary: "The customer's way back from the 3-D Secure challenge",
    description: 'No key: the token id is the proof. Re-reads the authorization and redirects to the return_url.',
    security: 'none',
    params: { tokenId: 'The token.' },
    answers: { 302: ['Redirect to the return_url'], 404: ['Unknown token'] },
  },
  {
    method: 'get',
    path: '/api/v1/transactions/token',
    tag: 'Tokens',
    summary: 'Check a token',
    description: 'The seed sends these fields as a JSON body on GET; that works too.',
    security: 'public',
    query: 'TokenCheckQuery',
    answers: { 200: ['Token check result', 'TokenCheckAnswer'], 400: ['Validation failed'], 404: ['Unknown payment_vendor or token'], ...KEY_ERRORS },
  },
  {
    method: 'post',
    path: '/api/v1/transactions/charge',
    tag: 'Transactions',
    summary: 'Charge a token',
    description: 'merchant_ref_code is the idempotency key: the same request again answers the same transaction, different content 409.',
    security: 'secret',
    body: 'ChargeRequest',
    answers: {
      200: ['Charge Credit Card Successfully (or pending, or needs the customer: PaymentLink)', 'ChargeAnswer'],
      400: ['Validation failed'],
      402: ['The card was declined', 'ChargeAnswer'],
      403: ['Needs the secret key'],
      404: ['Unknown payment_vendor or token'],
      409: ['merchant_ref_code reused, or the token cannot be charged'],
      ...KEY_ERRORS,
    },
  },
  {
    method: 'get',
    path: '/api/v1/transactions/{merchantRefCode}',
    tag: 'Transactions',
    summary: 'Read a transaction',
    security: 'secret',
    params: REF,
    answers: { 200: ['Transaction', 'TransactionAnswer'], 403: ['Needs the secret key'], 404: ['Unknown transaction'], ...KEY_ERRORS },
  },
  {
    method: 'post',
    path: '/api/v1/transactions/{merchantRefCode}/refunds',
    tag: 'Refunds',
    summary: 'Refund a transaction, fully or in part',
    description: 'The refunds of a transaction never add up to more than its Total, also under concurrency.',
    security: 'secret',
    body: 'RefundRequest',
    params: REF,
    answers: {
      201: ['Refund created', 'RefundCreatedAnswer'],
      400: ['Validation failed (an amount over what is left, too many decimals)'],
      403: ['Needs the secret key'],
      404: ['Unknown transaction'],
      409: ['Not paid, or refund_ref_code reused for a different refund'],
      ...KEY_ERRORS,
    },
  },
  {
    method: 'get',
    path: '/api/v1/transactions/{merchantRefCode}/refunds/{refundRefCode}',
    tag: 'Refunds',
    summary: 'Read a refund',
    security: 'secret',
    params: { ...REF, refundRefCode: 'The refund_ref_code of the refund.' },
    answers: { 200: ['Refund', 'RefundAnswer'], 403: ['Needs the secret key'], 404: ['Unknown transaction or refund'], ...KEY_ERRORS },
  },
  {
    method: 'get',
    path: '/api/v1/webhooks/deliveries',
    tag: 'Webhooks',
    summary: "The merchant's latest 100 webhook deliveries, newest first",
    security: 'secret',
    answers: { 200: ['Webhook deliveries', 'DeliveriesAnswer'], 403: ['Needs the secret key'], ...KEY_ERRORS },
  },
  {
    method: 'post',
    path: '/api/v1/webhooks/deliveries/{deliveryId}/resend',
    tag: 'Webhooks',
    summary: 'Send a webhook delivery again (same webhook-id)',
    security: 'secret',
    params: { deliveryId: 'The delivery id.' },
    answers: { 202: ['Delivery queued again', 'DeliveryAnswer'], 403: ['Needs the secret key'], 404: ['Unknown delivery'], ...KEY_ERRORS },
  },
  {
    method: 'post',
    path: '/api/v1/hook/stripe',
    tag: 'Stripe webhooks',
    summary: 'Stripe webhooks in (the seed path)',
    description: 'Verified with the Stripe-Signature header; finds the vendor by trying the known secrets. Set up by Stripe, not called by merchants.',
    security: 'none',
    rawBody: { description: 'A Stripe Event, exactly as Stripe sent it.' },
    answers: { 200: ['Received', 'StripeWebhookAnswer'], 400: ['Bad signature or payload', 'StripeWebhookAnswer'] },
  },
  {
    method: 'post',
    path: '/api/v1/hook/stripe/{vendorId}',
    tag: 'Stripe webhooks',
    summary: "Stripe webhooks in, one vendor's endpoint",
    description: "Verified with that vendor's webhook secret only; the admin API shows the URL and the events to select.",
    security: 'none',
    params: { vendorId: 'The payment vendor.' },
    rawBody: { description: 'A Stripe Event, exactly as Stripe sent it.' },
    answers: {
      200: ['Received', 'StripeWebhookAnswer'],
      400: ['Bad signature or payload', 'StripeWebhookAnswer'],
      404: ['No such vendor', 'StripeWebhookAnswer'],
      503: ['The vendor is not reachable yet; Stripe retries', 'StripeWebhookAnswer'],
    },
  },
  {
    method: 'post',
    path: '/api/v1/admin/merchants',
    tag: 'Administration',
    summary: 'Create a merchant',
    security: 'admin',
    body: 'MerchantRequest',
    answers: { 201: ['Merchant created: keys and webhook secret shown only now', 'NewMerchantAnswer'], 400: ['Validation failed'], ...ADMIN_ERRORS },
  },
  {
    method: 'get',
    path: '/api/v1/admin/merchants',
    tag: 'Administration',
    summary: 'List merchants and their keys (prefixes only)',
    security: 'admin',
    answers: { 200: ['Merchants', 'MerchantsAnswer'], ...ADMIN_ERRORS },
  },
  {
    method: 'post',
    path: '/api/v1/admin/merchants/{id}/keys',
    tag: 'Administration',
    summary: 'Issue a key (the old ones keep working until revoked)',
    security: 'admin',
    body: 'KeyRequest',
    params: ADMIN,
    answers: { 201: ['Key issued', 'IssuedKeyAnswer'], 400: ['Validation failed'], 404: ['No such merchant'], ...ADMIN_ERRORS },
  },
  {
    method: 'delete',
    path: '/api/v1/admin/merchants/{id}/keys/{keyId}',
    tag: 'Administration',
    summary: 'Revoke a key',
    security: 'admin',
    params: { ...ADMIN, keyId: 'The key id.' },
    answers: { 200: ['Key revoked', 'RevokedKeyAnswer'], 404: ['No such live key of this merchant'], ...ADMIN_ERRORS },
  },
  {
    method: 'post',
    path: '/api/v1/admin/merchants/{id}/vendors',
    tag: 'Administration',
    summary: "Add a payment vendor (a Stripe account's keys)",
    security: 'admin',
    body: 'VendorRequest',
    params: ADMIN,
    answers: { 201: ['Vendor created', 'VendorAnswer'], 400: ['Validation failed'], 404: ['No such merchant'], ...ADMIN_ERRORS },
  },
  {
    method: 'get',
    path: '/api/v1/admin/merchants/{id}/vendors',
    tag: 'Administration',
    summary: "A merchant's vendors (secrets only as hints)",
    security: 'admin',
    params: ADMIN,
    answers: { 200: ['Vendors', 'VendorsAnswer'], 404: ['No such merchant'], ...ADMIN_ERRORS },
  },
  {
    method: 'put',
    path: '/api/v1/admin/merchants/{id}/vendors/{vendorId}/webhook-secret',
    tag: 'Administration',
    summary: "Set a vendor's Stripe webhook signing secret",
    security: 'admin',
    body: 'WebhookSecretRequest',
    params: { ...ADMIN, vendorId: 'The payment vendor.' },
    answers: { 200: ['Webhook secret set', 'VendorAnswer'], 400: ['Validation failed'], 404: ['No such vendor'], ...ADMIN_ERRORS },
  },
  {
    method: 'post',
    path: '/api/v1/admin/merchants/{id}/vendors/{vendorId}/disable',
    tag: 'Administration',
    summary: 'Disable a vendor',
    security: 'admin',
    params: { ...ADMIN, vendorId: 'The payment vendor.' },
    answers: { 200: ['Vendor disabled', 'DisabledVendorAnswer'], 404: ['No such vendor'], ...ADMIN_ERRORS },
  },
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    tag: 'Reference',
    summary: 'This document',
    security: 'none',
    answers: { 200: ['The OpenAPI 3.1 document'] },
  },
  {
    method: 'get',
    path: '/api/v1/docs',
    tag: 'Reference',
    summary: 'This document as a page (Swagger UI, served by the Hub itself)',
    security: 'none',
    html: true,
    answers: { 200: ['The page'] },
  },
];

const SECURITY = new Map<Security, Json[]>([
  ['public', [{ publicKey: [] }, { secretKey: [] }]],
  ['secret', [{ secretKey: [] }]],
  ['admin', [{ adminToken: [] }]],
  ['none', []],
]);

const schemaRef = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** Components of a registry of zod schemas, without the per-schema `$schema`/`$id` the document does not want. */
function componentsOf(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: out } = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ zodSchema, jsonSchema }) => {
      if (io !== 'input') return;
      // A request field is required when leaving it out is refused: the seed's "not given" values
      // (null, '') go through a preprocess, which zod alone would list as required or not at random.
      const def = zodSchema._zod.def as { type: string; shape?: Record<string, z.ZodType> };
      if (def.type === 'object' && def.shape) {
        const required = Object.entries(def.shape)
          .filter(([, field]) => !field.safeParse(undefined).success)
          .map(([name]) => name);
        if (required.length > 0) jsonSchema.required = required;
        else delete jsonSchema.required;
      }
      // zod drops examples of a field that transforms (they might be outputs); ours are inputs.
      const examples = z.globalRegistry.get(zodSchema as unknown as z.ZodType)?.examples;
      if (examples && !jsonSchema.examples) jsonSchema.examples = examples as unknown[];
    },
  });
  return Object.fromEntries(Object.entries(out).map(([id, { $schema: _schema, $id: _id, ...rest }]) => [id, rest as Json]));
}

function operationOf(op: Operation, components: Record<string, Json>): Json {
  const parameters: Json[] = Object.entries(op.params ?? {}).map(([name, description]) => ({
    name,
    in: 'path',
    required: true,
    description,
    schema: { type: 'string' },
  }));
  if (op.query) {
    const query = components[op.query] as { properties: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties))
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
  }
  const responses = Object.fromEntries(
    Object.entries(op.answers).map(([status, [description, answer]]) => {
      if (op.html) return [status, { description, content: { 'text/html': { schema: { type: 'string' } } } }];
      if (op.path === '/api/v1/openapi.json') return [status, { description, content: { 'application/json': { schema: { type: 'object' } } } }];
      if (Number(status) === 302) return [status, { description, headers: { Location: { schema: { type: 'string' } } } }];
      const headers = Number(status) === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } } : {};
      return [status, { description, ...headers, content: { 'application/json': { schema: schemaRef(answer ?? 'Error') } } }];
    }),
  );
  return {
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
    security: SECURITY.get(op.security),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaRef(op.body) } } } } : {}),
    ...(op.rawBody
      ? { requestBody: { required: true, description: op.rawBody.description, content: { 'application/json': { schema: { type: 'object' } } } } }
      : {}),
    responses,
  };
}

let cached: Json | undefined;

/** The OpenAPI 3.1 document of the Hub API (built once: it depends on the code only). */
export function hubOpenApiDocument(): Json {
  if (cached) return cached;
  const requests = componentsOf(REQUESTS, 'input');
  const answers = componentsOf(ANSWERS, 'output');
  const schemas = { ...requests, ...answers };
  const paths: Record<string, Json> = {};
  for (const op of HUB_OPERATIONS) paths[op.path] = { ...paths[op.path], [op.method]: operationOf(op, schemas) };
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Payment Hub API',
      version: '1',
      description:
        'The merchant API in front of Stripe. Every answer is `{success, message, data}` with a real HTTP status; 400 `Validation failed` lists `errors` by field. Amounts are in major units (JPY 500, USD 19.99).',
    },
    tags: ['Tokens', 'Transactions', 'Refunds', 'Webhooks', 'Stripe webhooks', 'Administration', 'Reference'].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        publicKey: { type: 'http', scheme: 'bearer', description: "The merchant's public key: creating and checking tokens only, safe in a browser." },
        secretKey: { type: 'http', scheme: 'bearer', description: "The merchant's secret key: everything." },
        adminToken: { type: 'http', scheme: 'bearer', description: 'HUB_ADMIN_TOKEN (without it the admin API does not exist).' },
      },
    },
  };
  return cached;
}

// The services' own view types must stay what the schemas say (a field added to one and not the other fails to compile).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShapes: [
  Same<z.output<typeof deliverySchema>, DeliveryView>,
  Same<z.output<typeof newMerchantSchema>, NewMerchant>,
  Same<z.output<typeof merchantSchema>, MerchantView>,
  Same<Omit<z.output<typeof vendorSchema>, 'webhook_events'>, Omit<VendorView, 'webhook_events'>>,
] = [true, true, true, true];
void sameShapes;
