import { z } from 'zod';
import { isHttpUrl } from './hub-http';

/**
 * The Hub's request fields as zod schemas: they validate requests and, through z.toJSONSchema,
 * describe them in the OpenAPI document. Each check carries the message the Hub has always
 * answered (`is required`, `must be text`, ...): merchants' code may match on them.
 */

/** `undefined` (the field is missing) reads "is required"; anything else the given message. */
const requiredOr =
  (message: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : message;

/** The seed's clients send `null` and `''` for "not given"; text is trimmed before it is checked. */
function notGiven(value: unknown): unknown {
  if (value === null) return undefined;
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

const given = <T extends z.ZodType>(schema: T) => z.preprocess(notGiven, schema);

export interface TextOptions {
  max?: number;
  pattern?: RegExp;
  patternMessage?: string;
}

/** Text, trimmed, at most `max` characters (255 by default), no control characters. */
function textSchema(options: TextOptions & { nonEmpty?: boolean } = {}) {
  const max = options.max ?? 255;
  const text = z.string({ error: requiredOr('must be text') });
  let schema = (options.nonEmpty ? text.min(1, 'is required') : text)
    .max(max, `must be at most ${max} characters`)
    .refine((t) => !/\p{Cc}/u.test(t), 'must not contain control characters');
  if (options.pattern) schema = schema.regex(options.pattern, options.patternMessage ?? 'is not valid');
  return schema;
}

/** A required text: missing, `null`, `''` or blanks answer "is required". */
export const requiredText = (options: TextOptions = {}) => given(textSchema(options));

/** An optional text: missing, `null`, `''` or blanks are not given. */
export const optionalText = (options: TextOptions = {}) => given(textSchema(options).optional());

/**
 * A text whose presence alone decides something (a `payment_method` in place of a card): `''` is
 * given, and refused as empty, rather than quietly read as missing.
 */
export const presentText = (options: TextOptions = {}) =>
  z.preprocess((v) => (v === null ? undefined : typeof v === 'string' ? v.trim() : v), textSchema({ ...options, nonEmpty: true }).optional());

/** One of a few words (`GET`/`POST`), listed in the document as an enum. */
const word = <const W extends readonly [string, ...string[]]>(words: W, message: string) =>
  z.enum(words, { error: (issue) => (issue.input === undefined ? 'is required' : typeof issue.input === 'string' ? message : 'must be text') });

export const requiredWord = <const W extends readonly [string, ...string[]]>(words: W, message: string) => given(word(words, message));
export const optionalWord = <const W extends readonly [string, ...string[]]>(words: W, message: string) => given(word(words, message).optional());

/** An absolute http(s) URL, checked by parsing it (a regex alone lets `http://a:b:c` through). */
const urlSchema = () => textSchema({ max: 2000 }).refine(isHttpUrl, 'must be an http(s) URL').meta({ format: 'uri' });
export const requiredUrl = () => given(urlSchema());
export const optionalUrl = () => given(urlSchema().optional());

const DECIMAL_MESSAGE = 'must be a non-negative decimal number';
/** A decimal number as JSON number or text, kept as text for exact money arithmetic. */
const decimalSchema = () =>
  z
    .union([z.number().nonnegative(DECIMAL_MESSAGE), z.string().regex(/^\d+(\.\d+)?$/, DECIMAL_MESSAGE)], { error: requiredOr(DECIMAL_MESSAGE) })
    .transform(String)
    .meta({ minimum: 0, description: 'A decimal number of major units, as a JSON number or text ("10.50").' });
export const requiredDecimal = () => given(decimalSchema());
export const optionalDecimal = () => given(decimalSchema().optional());

/** A whole number as JSON number or digits (the seed sends `exp_month` as text, `exp_year` as a number). */
export const requiredInteger = (min: number, max: number) =>
  given(
    z
      .union(
        [
          z.number().int(),
          z
            .string()
            .regex(/^\d{1,9}$/)
            .transform(Number),
        ],
        { error: requiredOr('must be a whole number') },
      )
      .pipe(z.number().min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`))
      .meta({ minimum: min, maximum: max }),
  );

/** true/false as JSON booleans or text. */
export const optionalBoolean = () =>
  z.preprocess(
    (v) => (v === null || v === '' ? undefined : v),
    z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')], { error: 'must be true or false' }).optional(),
  );

/** A nested JSON object (`null` is not given; `''` or an array is not an object). */
export const objectOf = <S extends z.ZodRawShape>(shape: S) => z.object(shape, { error: requiredOr('must be an object') });
export const requiredObject = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema);
export const optionalObject = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional());

/**
 * Cross-field checks run even when some fields failed (one answer names every bad field), but
 * only on an object: a missing or non-object value has already been refused as such.
 */
export const evenWithFailedFields = {
  when: (payload: { value: unknown }): boolean => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value),
};

/** The first-level fields that already failed, so a cross-field check does not pile a second message on them. */
export const failedFields = (ctx: { issues: ReadonlyArray<{ path?: PropertyKey[] }> }): Set<string> =>
  new Set(ctx.issues.map((issue) => String(issue.path?.[0] ?? '')));
