/**
 * Declared parameters per endpoint, checked the way Stripe checks them: unknown names are
 * `parameter_unknown`, missing ones `parameter_missing`, strings become integers/booleans,
 * enums are checked, empty strings unset what can be unset.
 */
import type { FormValue } from './form-parser';
import { parameterInvalid, parameterInvalidEmpty, parameterMissing, parameterUnknown } from './stripe-errors';

export type ParamRule =
  | { kind: 'string'; emptyable: boolean }
  | { kind: 'integer' }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'array'; of: ParamRule }
  | { kind: 'object'; fields: ParamSpec; emptyable: boolean }
  | { kind: 'metadata' }
  /** `created=123` or `created[gte]=123` (gt, gte, lt, lte): list filters on timestamps. */
  | { kind: 'range' }
  /** Accepted and kept as sent; for nested options the emulator stores but does not model. */
  | { kind: 'opaque' };

export type ParamSpec = { readonly [name: string]: ParamRule };

type StringRule<E extends boolean> = { kind: 'string'; emptyable: E };
type EnumRule<V extends string> = { kind: 'enum'; values: readonly V[] };
type ArrayRule<R extends ParamRule> = { kind: 'array'; of: R };
type ObjectRule<F extends ParamSpec, E extends boolean> = { kind: 'object'; fields: F; emptyable: E };

/** A timestamp filter after parsing; `created=123` becomes `{ gte: 123, lte: 123 }`. */
export interface RangeInput {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** Metadata after parsing: `null` clears all keys, a `null` value unsets one key. */
export type MetadataInput = Record<string, string | null> | null;

type ValueOf<R> =
  R extends StringRule<infer E>
    ? E extends true
      ? string | null
      : string
    : R extends { kind: 'integer' }
      ? number
      : R extends { kind: 'boolean' }
        ? boolean
        : R extends EnumRule<infer V>
          ? V
          : R extends ArrayRule<infer O>
            ? Array<ValueOf<O>>
            : R extends ObjectRule<infer F, infer E>
              ? E extends true
                ? Infer<F> | null
                : Infer<F>
              : R extends { kind: 'metadata' }
                ? MetadataInput
                : R extends { kind: 'range' }
                  ? RangeInput
                  : unknown;

export type Infer<S extends ParamSpec> = { -readonly [K in keyof S]?: ValueOf<S[K]> };

export const p = {
  string: (): StringRule<false> => ({ kind: 'string', emptyable: false }),
  /** An empty string unsets it (arrives as null). */
  emptyableString: (): StringRule<true> => ({ kind: 'string', emptyable: true }),
  integer: (): { kind: 'integer' } => ({ kind: 'integer' }),
  boolean: (): { kind: 'boolean' } => ({ kind: 'boolean' }),
  enumOf: <const V extends string>(...values: V[]): EnumRule<V> => ({ kind: 'enum', values }),
  arrayOf: <R extends ParamRule>(of: R): ArrayRule<R> => ({ kind: 'array', of }),
  object: <F extends ParamSpec>(fields: F): ObjectRule<F, false> => ({ kind: 'object', fields, emptyable: false }),
  emptyableObject: <F extends ParamSpec>(fields: F): ObjectRule<F, true> => ({ kind: 'object', fields, emptyable: true }),
  metadata: (): { kind: 'metadata' } => ({ kind: 'metadata' }),
  range: (): { kind: 'range' } => ({ kind: 'range' }),
  opaque: (): { kind: 'opaque' } => ({ kind: 'opaque' }),
  expand: (): ArrayRule<StringRule<false>> => ({ kind: 'array', of: { kind: 'string', emptyable: false } }),
};

/** Pagination parameters every list endpoint takes. */
export const listParams = {
  limit: p.integer(),
  starting_after: p.string(),
  ending_before: p.string(),
  expand: p.expand(),
} as const;

export function validateParams<S extends ParamSpec>(raw: Record<string, FormValue>, spec: S, required: readonly string[] = []): Infer<S> {
  const out = checkObject(raw, spec, '') as Infer<S>;
  for (const name of required) {
    if ((out as Record<string, unknown>)[name] === undefined) throw parameterMissing(name);
  }
  return out;
}

function checkObject(raw: Record<string, FormValue>, spec: ParamSpec, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const param = prefix ? `${prefix}[${name}]` : name;
    const rule = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!rule) throw parameterUnknown(param);
    out[name] = checkValue(value, rule, param);
  }
  return out;
}

function checkValue(value: FormValue, rule: ParamRule, param: string): unknown {
  switch (rule.kind) {
    case 'string': {
      const s = expectScalar(value, param, 'string');
      if (s === '') {
        if (rule.emptyable) return null;
        throw parameterInvalidEmpty(param);
      }
      return s;
    }
    case 'integer': {
      const s = expectScalar(value, param, 'integer');
      if (s === '') throw parameterInvalidEmpty(param);
      if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
        throw withCode(parameterInvalid(param, `Invalid integer: ${s}`), 'parameter_invalid_integer');
      }
      return Number(s);
    }
    case 'boolean': {
      const s = expectScalar(value, param, 'boolean');
      if (s === 'true') return true;
      if (s === 'false') return false;
      throw parameterInvalid(param, `Invalid boolean: ${s}`);
    }
    case 'enum': {
      const s = expectScalar(value, param, 'string');
      if (s === '') throw parameterInvalidEmpty(param);
      if (!rule.values.includes(s)) {
        throw parameterInvalid(param, `Invalid ${param}: must be one of ${listWords(rule.values)}`);
      }
      return s;
    }
    case 'array': {
      if (value === '') return [];
      const items = asArray(value);
      if (!items) throw parameterInvalid(param, `Invalid array`);
      return items.map((item, i) => checkValue(item, rule.of, `${param}[${i}]`));
    }
    case 'object': {
      if (value === '' && rule.emptyable) return null;
      const obj = asObject(value);
      if (!obj) throw parameterInvalid(param, `Invalid object`);
      return checkObject(obj, rule.fields, param);
    }
    case 'metadata': {
      if (value === '') return null;
      const obj = asObject(value);
      if (!obj) throw parameterInvalid(param, `Invalid object`);
      const out: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(obj)) {
        const s = expectScalar(v, `${param}[${k}]`, 'string');
        if (k.length > 40) throw parameterInvalid(`${param}[${k}]`, `Metadata keys can be at most 40 characters long.`);
        if (s.length > 500)
          throw parameterInvalid(
            `${param}[${k}]`,
            `Metadata values can have up to 500 characters, but you passed in a value that is ${s.length} characters long.`,
          );
        out[k] = s === '' ? null : s;
      }
      return out;
    }
    case 'range': {
      if (typeof value === 'string') {
        const n = checkValue(value, { kind: 'integer' }, param) as number;
        return { gte: n, lte: n };
      }
      const obj = asObject(value);
      if (!obj) throw parameterInvalid(param, `Invalid object`);
      const out: RangeInput = {};
      for (const [k, v] of Object.entries(obj)) {
        if (k !== 'gt' && k !== 'gte' && k !== 'lt' && k !== 'lte') throw parameterUnknown(`${param}[${k}]`);
        out[k] = checkValue(v, { kind: 'integer' }, `${param}[${k}]`) as number;
      }
      return out;
    }
    case 'opaque':
      return value;
  }
}

/** Whether a timestamp passes a `created` filter. */
export function inRange(value: number, range: RangeInput | undefined): boolean {
  if (range === undefined) return true;
  return (
    (range.gt === undefined || value > range.gt) &&
    (range.gte === undefined || value >= range.gte) &&
    (range.lt === undefined || value < range.lt) &&
    (range.lte === undefined || value <= range.lte)
  );
}

function expectScalar(value: FormValue, param: string, what: string): string {
  if (typeof value === 'string') return value;
  throw parameterInvalid(param, `Invalid ${what}: ${JSON.stringify(value)}`);
}

/** Arrays arrive as arrays from the form parser, or as index-keyed objects when sparse. */
function asArray(value: FormValue): FormValue[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value === 'object' && Object.keys(value).every((k) => /^\d+$/.test(k))) {
    return Object.keys(value)
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => value[String(k)]);
  }
  return undefined;
}

/** Objects whose keys all look like indexes were parsed as arrays; give them their keys back. */
function asObject(value: FormValue): Record<string, FormValue> | undefined {
  if (typeof value === 'string') return undefined;
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  return value;
}

function withCode(err: ReturnType<typeof parameterInvalid>, code: string) {
  err.body.code = code;
  return err;
}

function listWords(values: readonly string[]): string {
  if (values.length <= 1) return values.join('');
  if (values.length === 2) return `${values[0]} or ${values[1]}`;
  return `${values.slice(0, -1).join(', ')}, or ${values[values.length - 1]}`;
}

/** Applies Stripe's metadata update rules to existing metadata. */
export function mergeMetadata(current: Record<string, string>, update: MetadataInput | undefined): Record<string, string> {
  if (update === undefined) return current;
  if (update === null) return {};
  const next = { ...current };
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}
