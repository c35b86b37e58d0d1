/**
 * Stripe's error envelope, `{"error": {...}}`, and the errors the emulator throws to produce it.
 * Handlers throw EmulatorApiError; the server renders it with its status.
 */
export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  /** The failed Charge's id, on payment declines. */
  charge?: string;
  payment_intent?: unknown;
  setup_intent?: unknown;
  payment_method?: unknown;
}

export interface StripeErrorEnvelope {
  error: StripeErrorBody;
}

export class EmulatorApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
    this.name = 'EmulatorApiError';
  }

  envelope(): StripeErrorEnvelope {
    return { error: this.body };
  }
}

const DOCS = 'https://stripe.com/docs/error-codes';

function withDoc(code: string): string {
  return `${DOCS}/${code.replace(/_/g, '-')}`;
}

export function invalidRequest(message: string, extra: Partial<StripeErrorBody> = {}, status = 400): EmulatorApiError {
  const body: StripeErrorBody = { type: 'invalid_request_error', message, ...extra };
  if (body.code && !body.doc_url) body.doc_url = withDoc(body.code);
  return new EmulatorApiError(status, body);
}

export function parameterUnknown(param: string): EmulatorApiError {
  return invalidRequest(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });
}

export function parameterMissing(param: string): EmulatorApiError {
  return invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
}

export function parameterInvalidEmpty(param: string): EmulatorApiError {
  return invalidRequest(
    `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
    { code: 'parameter_invalid_empty', param },
  );
}

/** A value of the wrong type or outside an enum. Stripe sends no `code` for these. */
export function parameterInvalid(param: string, message: string): EmulatorApiError {
  return invalidRequest(message, { param });
}

/** 404 for an id in the path; `param` ids that do not exist are a 400 (see resourceMissingParam). */
export function resourceMissing(kind: string, id: string): EmulatorApiError {
  return invalidRequest(`No such ${kind}: '${id}'`, { code: 'resource_missing', param: 'id' }, 404);
}

export function resourceMissingParam(kind: string, id: string, param: string): EmulatorApiError {
  return invalidRequest(`No such ${kind}: '${id}'`, { code: 'resource_missing', param });
}

/**
 * What Stripe answers an account that is not a Connect platform when it names another account,
 * as a path id (`/v1/accounts/acct_other`) or in the Stripe-Account header: 403, which
 * stripe-node raises as StripePermissionError.
 */
export function connectOnly(): EmulatorApiError {
  return invalidRequest(
    "Only Stripe Connect platforms can work with other accounts. If you specified a client_id parameter, make sure it's correct. If you need to setup a Stripe Connect platform, you can do so at https://dashboard.stripe.com/account/applications/settings.",
    {},
    403,
  );
}

export function notSupported(what: string, param?: string): EmulatorApiError {
  return invalidRequest(`${what} is not supported by the emulator yet.`, param ? { param } : {});
}

export function cardError(body: Omit<StripeErrorBody, 'type'>): EmulatorApiError {
  const full: StripeErrorBody = { type: 'card_error', ...body };
  if (full.code && !full.doc_url) full.doc_url = withDoc(full.code);
  return new EmulatorApiError(402, full);
}

export function unauthorized(message: string): EmulatorApiError {
  return new EmulatorApiError(401, { type: 'invalid_request_error', message });
}

export function rateLimited(): EmulatorApiError {
  return invalidRequest('Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.', { code: 'rate_limit' }, 429);
}

export function apiError(message = 'An unknown error occurred.'): EmulatorApiError {
  return new EmulatorApiError(500, { type: 'api_error', message });
}

export function idempotencyMismatch(key: string, firstPath: string, path: string): EmulatorApiError {
  const message =
    firstPath === path
      ? `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`
      : `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${path}' vs '${firstPath}'). Try using a key other than '${key}' if you meant to execute a different request.`;
  return new EmulatorApiError(400, { type: 'idempotency_error', message });
}

export function idempotencyInFlight(key: string): EmulatorApiError {
  return new EmulatorApiError(409, {
    type: 'idempotency_error',
    code: 'idempotency_key_in_use',
    message: `There is currently another in-progress request using this Idempotency Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
  });
}
