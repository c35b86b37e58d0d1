import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { clientErrorStatus, STATUS_BY_KIND } from '../http/error-handler';
import { AppError, isAppError } from '../shared/app-error';

/** The Hub's envelope: `{ success, message, data }` with a real HTTP status. */
export interface Envelope<T> {
  success: boolean;
  message: string;
  data: T | null;
}

export const reply = <T>(res: Response, status: number, message: string, data: T | null): void => {
  res.status(status).json({ success: status < 400, message, data } satisfies Envelope<T>);
};

export interface FieldError {
  field: string;
  message: string;
}

/** 400 `Validation failed` naming every bad field. */
export const validationFailed = (errors: FieldError[]): AppError =>
  new AppError('invalid_input', 'Validation failed', { code: 'validation', details: { errors } });

const MESSAGES_BY_STATUS = new Map<number, string>([
  [401, 'Unauthorized'],
  [404, 'Not found'],
]);

/**
 * The Hub's error answers: a client's mistake is a 4xx with a plain message (and `errors` for
 * validation), Stripe trouble a 502, anything unexpected `500 Server went wrong` with an error id
 * that finds the log line, and nothing internal in the body.
 */
export function hubErrorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (isAppError(err)) {
    const status = err.code === 'rate_limited_here' ? 429 : STATUS_BY_KIND[err.kind];
    if (status === 429 && typeof err.details?.retryAfterS === 'number') res.set('Retry-After', String(err.details.retryAfterS));
    const errors = err.code === 'validation' ? (err.details?.errors as FieldError[]) : undefined;
    const message = status === 401 ? 'Unauthorized' : err.message;
    if (status >= 500) req.log.warn({ err: err.message, code: err.code }, 'hub request failed upstream');
    res.status(status).json({ success: false, message, data: null, ...(errors ? { errors } : {}) });
    return;
  }
  const clientStatus = clientErrorStatus(err);
  if (clientStatus) {
    const errors = clientStatus === 400 ? [{ field: 'body', message: 'The body is not valid JSON' }] : undefined;
    res.status(clientStatus).json({
      success: false,
      message: clientStatus === 400 ? 'Validation failed' : (MESSAGES_BY_STATUS.get(clientStatus) ?? 'Request refused'),
      data: null,
      ...(errors ? { errors } : {}),
    });
    return;
  }
  const errorId = randomUUID();
  req.log.error({ err, errorId }, 'hub: unhandled error');
  res.status(500).json({ success: false, message: 'Server went wrong', data: null, error_id: errorId });
}

export const hubNotFound = (_req: Request, res: Response): void => reply(res, 404, 'Not found', null);

/** Reads fields of a JSON object body by name, collecting every problem before answering. */
export class FieldReader {
  constructor(
    private readonly source: unknown,
    private readonly prefix = '',
    /** Shared with nested readers, so one answer names every bad field. */
    readonly errors: FieldError[] = [],
  ) {}

  private raw(name: string): unknown {
    const src = this.source;
    return src && typeof src === 'object' && !Array.isArray(src) && Object.hasOwn(src, name) ? (src as Record<string, unknown>)[name] : undefined;
  }

  private fail(name: string, message: string): undefined {
    this.errors.push({ field: `${this.prefix}${name}`, message });
    return undefined;
  }

  has(name: string): boolean {
    const v = this.raw(name);
    return v !== undefined && v !== null;
  }

  /** An http(s) URL, checked by parsing it. */
  url(name: string, options: { required?: boolean } = {}): string | undefined {
    const text = this.text(name, { required: options.required, max: 2000 });
    if (!text) return text === '' ? undefined : text;
    return isHttpUrl(text) ? text : this.fail(name, 'must be an http(s) URL');
  }

  /** Text, trimmed; `required` refuses a missing or empty one. */
  text(name: string, options: { required?: boolean; max?: number; pattern?: RegExp; patternMessage?: string } = {}): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return options.required ? this.fail(name, 'is required') : v === '' ? '' : undefined;
    if (typeof v !== 'string') return this.fail(name, 'must be text');
    const t = v.trim();
    if (options.required && t === '') return this.fail(name, 'is required');
    if (t.length > (options.max ?? 255)) return this.fail(name, `must be at most ${options.max ?? 255} characters`);
    if (/\p{Cc}/u.test(t)) return this.fail(name, 'must not contain control characters');
    if (options.pattern && t !== '' && !options.pattern.test(t)) return this.fail(name, options.patternMessage ?? 'is not valid');
    return t;
  }

  /** A decimal number as JSON number or text, kept as text for exact money arithmetic. */
  decimal(name: string, options: { required?: boolean } = {}): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return options.required ? this.fail(name, 'is required') : undefined;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return String(v);
    if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) return v.trim();
    return this.fail(name, 'must be a non-negative decimal number');
  }

  /** An integer as JSON number or digits. */
  integer(name: string, options: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return options.required ? this.fail(name, 'is required') : undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : NaN;
    if (!Number.isSafeInteger(n)) return this.fail(name, 'must be a whole number');
    if ((options.min !== undefined && n < options.min) || (options.max !== undefined && n > options.max)) {
      return this.fail(name, `must be between ${options.min} and ${options.max}`);
    }
    return n;
  }

  boolean(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return this.fail(name, 'must be true or false');
  }

  /** A nested object, read with its own reader (its errors join this one's). */
  object(name: string, options: { required?: boolean } = {}): FieldReader | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return options.required ? this.fail(name, 'is required') : undefined;
    if (typeof v !== 'object' || Array.isArray(v)) return this.fail(name, 'must be an object');
    return new FieldReader(v, `${this.prefix}${name}.`, this.errors);
  }

  /** Throws 400 `Validation failed` if any field was refused. */
  check(): void {
    if (this.errors.length > 0) throw validationFailed(this.errors);
  }
}

/** An absolute http(s) URL that `new URL` accepts (a regex alone lets `http://a:b:c` through). */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
