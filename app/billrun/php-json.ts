/**
 * Byte-exact PHP 8.2 `json_encode(json_decode($text, true))` for BillRun signatures.
 *
 * BillRun signs the PHP re-encoding of the `data` it decoded, not the text the client sent, so a
 * verifier has to know every place where PHP's round trip differs from JavaScript's: key order
 * (PHP keeps insertion order even for integer-like keys), `{}` becoming `[]`, floats written in
 * PHP's own layout, `/` and non-ASCII escaped. That is why this module parses to a token-preserving
 * tree ({@link JsonNode}) instead of using `JSON.parse`.
 */

/** A parsed JSON value that keeps key order, duplicate keys and the raw number tokens. */
export type JsonNode =
  | { kind: 'object'; entries: Array<[string, JsonNode]> }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; raw: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' };

/** Malformed JSON text; `position` is the UTF-16 index where parsing failed. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'JsonSyntaxError';
  }
}

/** PHP's json_decode/json_encode default depth: 512 nested arrays/objects pass, 513 fail. */
export const PHP_JSON_MAX_DEPTH = 512;

const NUMBER_TOKEN = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Parses JSON text (RFC 8259, strict as PHP's parser) into a tree that keeps key order, duplicate
 * keys and number tokens.
 *
 * Choices, each the one PHP's json_decode makes, so that what we accept is what BillRun accepts:
 * - any value may be at the top level; whitespace is only space, tab, CR, LF (no BOM);
 * - no trailing commas, no leading zeros, no `+1`, `.5`, `1.`, NaN, Infinity or comments;
 * - raw control characters (U+0000..U+001F) inside strings are rejected;
 * - an unpaired UTF-16 surrogate is rejected, escaped (`"\ud83d"`, PHP's JSON_ERROR_UTF16) or raw
 *   (it has no UTF-8 form, PHP would see invalid UTF-8);
 * - more than {@link PHP_JSON_MAX_DEPTH} nested arrays/objects is rejected.
 * @throws JsonSyntaxError
 */
export function parseJsonTree(text: string): JsonNode {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const node = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.pos < text.length) parser.fail('Unexpected data after the JSON value');
  return node;
}

class Parser {
  pos = 0;

  constructor(private readonly text: string) {}

  fail(message: string, at: number = this.pos): never {
    throw new JsonSyntaxError(message, at);
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  parseValue(depth: number): JsonNode {
    const t = this.text;
    if (this.pos >= t.length) this.fail('Unexpected end of input');
    const c = t[this.pos];
    switch (c) {
      case '{':
        return this.parseObject(depth + 1);
      case '[':
        return this.parseArray(depth + 1);
      case '"':
        return { kind: 'string', value: this.parseString() };
      case 't':
        return this.parseLiteral('true', { kind: 'bool', value: true });
      case 'f':
        return this.parseLiteral('false', { kind: 'bool', value: false });
      case 'n':
        return this.parseLiteral('null', { kind: 'null' });
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
        return this.fail(`Unexpected character ${JSON.stringify(c)}`);
    }
  }

  private parseLiteral(word: string, node: JsonNode): JsonNode {
    if (!this.text.startsWith(word, this.pos)) this.fail('Invalid literal');
    this.pos += word.length;
    return node;
  }

  private parseNumber(): JsonNode {
    NUMBER_TOKEN.lastIndex = this.pos;
    const match = NUMBER_TOKEN.exec(this.text);
    if (!match) return this.fail('Invalid number');
    const end = this.pos + match[0].length;
    // The sticky regex stops before "01" or "1." tails; a digit, dot or exponent right after the
    // token means the number itself was malformed, not that a new token starts.
    const next = this.text[end];
    if (next !== undefined && /[0-9.eE+-]/.test(next)) this.fail('Invalid number', end);
    this.pos = end;
    return { kind: 'number', raw: match[0] };
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('Unterminated string', start);
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('Control character in string');
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = t.charCodeAt(this.pos + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          this.pos += 2;
          continue;
        }
        this.fail('Unpaired UTF-16 surrogate in string');
      }
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(runStart, this.pos);
      out += this.parseEscape();
      runStart = this.pos;
    }
  }

  private parseEscape(): string {
    const t = this.text;
    const at = this.pos;
    const e = t[this.pos + 1];
    this.pos += 2;
    switch (e) {
      case '"':
        return '"';
      case '\\':
        return '\\';
      case '/':
        return '/';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'u': {
        const unit = this.readHex4(at);
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('Unpaired UTF-16 surrogate in \\u escape', at);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (t[this.pos] !== '\\' || t[this.pos + 1] !== 'u') {
            this.fail('Unpaired UTF-16 surrogate in \\u escape', at);
          }
          this.pos += 2;
          const low = this.readHex4(at);
          if (low < 0xdc00 || low > 0xdfff) this.fail('Unpaired UTF-16 surrogate in \\u escape', at);
          return String.fromCharCode(unit, low);
        }
        return String.fromCharCode(unit);
      }
      default:
        return this.fail('Invalid escape sequence', at);
    }
  }

  private readHex4(escapeAt: number): number {
    const hex = this.text.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('Invalid \\u escape', escapeAt);
    this.pos += 4;
    return parseInt(hex, 16);
  }

  private enter(depth: number): void {
    if (depth > PHP_JSON_MAX_DEPTH) this.fail(`Nesting deeper than ${PHP_JSON_MAX_DEPTH}`);
  }

  private parseObject(depth: number): JsonNode {
    this.enter(depth);
    this.pos++; // {
    const entries: Array<[string, JsonNode]> = [];
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail('Expected a string key');
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("Expected ':'");
      this.pos++;
      this.skipWhitespace();
      entries.push([key, this.parseValue(depth)]);
      this.skipWhitespace();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return { kind: 'object', entries };
      }
      this.fail("Expected ',' or '}'");
    }
  }

  private parseArray(depth: number): JsonNode {
    this.enter(depth);
    this.pos++; // [
    const items: JsonNode[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.parseValue(depth));
      this.skipWhitespace();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return { kind: 'array', items };
      }
      this.fail("Expected ',' or ']'");
    }
  }
}

/** The value `JSON.parse` would give for the same text (duplicate keys: the last one wins). */
export function toPlainValue(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, value] of node.entries) {
        // defineProperty, not assignment: a "__proto__" key must become an own property, as with JSON.parse.
        Object.defineProperty(out, key, {
          value: toPlainValue(value),
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
      return out;
    }
    case 'array':
      return node.items.map(toPlainValue);
    case 'string':
    case 'bool':
      return node.value;
    case 'number':
      return Number(node.raw);
    case 'null':
      return null;
  }
}

/** Writes a tree back as compact JSON, keeping key order, duplicate keys and number tokens. */
export function stringifyJsonTree(node: JsonNode): string {
  switch (node.kind) {
    case 'object':
      return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${stringifyJsonTree(v)}`).join(',')}}`;
    case 'array':
      return `[${node.items.map(stringifyJsonTree).join(',')}]`;
    case 'string':
      return JSON.stringify(node.value);
    case 'number':
      return node.raw;
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'null':
      return 'null';
  }
}

// ---------------------------------------------------------------------------------------------
// PHP values, as json_decode($text, true) builds them

/** A PHP int (64-bit). */
export interface PhpInt {
  readonly kind: 'int';
  readonly value: bigint;
}
/** A PHP float (IEEE double). */
export interface PhpFloat {
  readonly kind: 'float';
  readonly value: number;
}
/**
 * A PHP array. Keys are held as the JSON key text; PHP turns canonical decimal integer keys into
 * int keys, but that mapping is one-to-one, so only list detection ({@link isPhpList}) cares.
 * A JS Map has PHP's ordering rule: overwriting a key keeps its first position.
 */
export type PhpArray = Map<string, PhpValue>;
export type PhpValue = null | boolean | string | PhpInt | PhpFloat | PhpArray;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * json_decode($text, true) on a parsed tree. Objects and arrays become PHP arrays; a duplicate
 * key keeps its first position and its last value (zend_symtable_update); an integer token that
 * does not fit int64 becomes a float (PHP's scanner does the same without JSON_BIGINT_AS_STRING).
 */
export function phpJsonDecode(node: JsonNode): PhpValue {
  switch (node.kind) {
    case 'object': {
      const out: PhpArray = new Map();
      for (const [key, value] of node.entries) out.set(key, phpJsonDecode(value));
      return out;
    }
    case 'array': {
      const out: PhpArray = new Map();
      node.items.forEach((item, i) => out.set(String(i), phpJsonDecode(item)));
      return out;
    }
    case 'string':
    case 'bool':
      return node.value;
    case 'null':
      return null;
    case 'number': {
      if (!/[.eE]/.test(node.raw)) {
        const n = BigInt(node.raw);
        if (n >= INT64_MIN && n <= INT64_MAX) return { kind: 'int', value: n };
      }
      return { kind: 'float', value: Number(node.raw) };
    }
  }
}

/** PHP's `zend_array_is_list`: keys are exactly 0..n-1 in order (so an empty array is a list). */
export function isPhpList(array: PhpArray): boolean {
  let i = 0;
  for (const key of array.keys()) {
    // String(i) is the only spelling PHP turns into int key i ("01", "1.0", "-0" stay strings).
    if (key !== String(i)) return false;
    i++;
  }
  return true;
}

/**
 * json_encode($value) with default flags, as PHP 8.2 writes it.
 * @throws Error where PHP's json_encode returns false (INF/NAN, strings that are not valid UTF-8).
 */
export function phpJsonEncodeValue(value: PhpValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return phpJsonString(value);
  if (value instanceof Map) {
    if (isPhpList(value)) return `[${[...value.values()].map(phpJsonEncodeValue).join(',')}]`;
    const parts: string[] = [];
    for (const [k, v] of value) parts.push(`${phpJsonString(k)}:${phpJsonEncodeValue(v)}`);
    return `{${parts.join(',')}}`;
  }
  if (value.kind === 'int') return value.value.toString();
  if (!Number.isFinite(value.value)) {
    // PHP: "Inf and NaN cannot be JSON encoded", json_encode returns false.
    throw new Error('json_encode: Inf and NaN cannot be JSON encoded');
  }
  // serialize_precision = -1: shortest round-trip digits in php_gcvt's layout with precision 17.
  const { negative, digits, decpt } = shortestDigits(value.value);
  return gcvtLayout(negative, digits, decpt, 17, 'e');
}

/**
 * PHP 8.2 `json_encode(json_decode($text, true))` for a parsed tree: PHP's bytes exactly.
 * @throws Error where PHP's json_encode would return false (a number that overflows to INF).
 */
export function phpJsonEncode(node: JsonNode): string {
  return phpJsonEncodeValue(phpJsonDecode(node));
}

const JSON_SHORT_ESCAPES: Record<number, string> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x2f: '\\/',
  0x5c: '\\\\',
};

function hex4(unit: number): string {
  return `\\u${unit.toString(16).padStart(4, '0')}`;
}

/** A string as json_encode writes it by default: `\/`, lower-case `\u00XX`, non-ASCII as `\uXXXX`. */
function phpJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x2f && c !== 0x5c) {
      out += s[i];
    } else if (c < 0x80) {
      // DEL (0x7f) is ASCII and PHP leaves it as is.
      out += JSON_SHORT_ESCAPES[c] ?? (c === 0x7f ? s[i] : hex4(c));
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const low = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) {
        // The string has no UTF-8 form; PHP's json_encode fails on malformed UTF-8.
        throw new Error('json_encode: malformed UTF-8 (unpaired surrogate)');
      }
      out += hex4(c) + hex4(low);
      i++;
    } else {
      out += hex4(c);
    }
  }
  return `${out}"`;
}

// ---------------------------------------------------------------------------------------------
// Floats: zend_dtoa digits laid out by zend_gcvt

interface DecimalDigits {
  negative: boolean;
  /** Significant digits without trailing zeros ("0" for zero). */
  digits: string;
  /** Position of the decimal point: value = 0.<digits> x 10^decpt (zend_dtoa's decpt). */
  decpt: number;
}

/** zend_dtoa mode 0: the shortest digits that round-trip, which is what toExponential() gives. */
function shortestDigits(x: number): DecimalDigits {
  const negative = x < 0 || Object.is(x, -0);
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e');
  const digits = mantissa!.replace('.', '');
  return { negative, digits, decpt: Number(exponent) + 1 };
}

/**
 * zend_dtoa mode 2: the exact binary value rounded to `precision` significant digits, ties to even
 * (dtoa rounds exact halves to even; Number#toPrecision rounds them up, so it cannot be used).
 */
function roundedDigits(x: number, precision: number): DecimalDigits {
  const negative = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  if (abs === 0) return { negative, digits: '0', decpt: 1 };
  // Exact decimal expansion of the double: mantissa x 2^e = mantissa x 5^-e / 10^-e.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, abs);
  const bits = view.getBigUint64(0);
  const biasedExp = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biasedExp === 0 ? fraction : fraction | (1n << 52n);
  const e = (biasedExp === 0 ? 1 : biasedExp) - 1075;
  let all: string;
  let decpt: number;
  if (e >= 0) {
    all = (mantissa << BigInt(e)).toString();
    decpt = all.length;
  } else {
    all = (mantissa * 5n ** BigInt(-e)).toString();
    decpt = all.length + e;
  }
  let digits = all.slice(0, precision);
  if (all.length > precision) {
    const rest = all.slice(precision);
    const firstDropped = rest.charCodeAt(0) - 48;
    const restIsExactHalf = firstDropped === 5 && /^50*$/.test(rest);
    const lastKeptOdd = (digits.charCodeAt(digits.length - 1) - 48) % 2 === 1;
    if (firstDropped > 5 || (firstDropped === 5 && (!restIsExactHalf || lastKeptOdd))) {
      const bumped = (BigInt(digits) + 1n).toString();
      if (bumped.length > digits.length) decpt++; // 999.. -> 1000..
      digits = bumped.slice(0, precision);
    }
  }
  digits = digits.replace(/0+$/, '') || '0';
  return { negative, digits, decpt };
}

/** zend_gcvt's layout: exponential when decpt < -3 or decpt > precision, no trailing ".0" otherwise. */
function gcvtLayout(negative: boolean, digits: string, decpt: number, precision: number, expChar: string): string {
  const sign = negative ? '-' : '';
  if (decpt < -3 || decpt > precision) {
    const exp = decpt - 1;
    const fraction = digits.length > 1 ? digits.slice(1) : '0';
    return `${sign}${digits[0]}.${fraction}${expChar}${exp < 0 ? '-' : '+'}${Math.abs(exp)}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (digits.length <= decpt) return sign + digits + '0'.repeat(decpt - digits.length);
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

// ---------------------------------------------------------------------------------------------
// Strings as urlencode() sees them

/**
 * PHP 8's `(string)` conversion of a scalar, as urlencode() receives it in BillRun (no
 * strict_types): int -> decimal, true -> "1", false/null -> "", float -> zend_gcvt with the
 * `precision` ini (default 14, not serialize_precision) and an upper-case `E`: 1e25 -> "1.0E+25",
 * 0.30000000000000004 -> "0.3".
 * @throws Error for arrays (PHP 8 throws a TypeError: urlencode() wants a string).
 */
export function phpToString(value: PhpValue): string {
  if (value === null || value === false) return '';
  if (value === true) return '1';
  if (typeof value === 'string') return value;
  if (value instanceof Map) throw new Error('Array to string conversion is not allowed here');
  if (value.kind === 'int') return value.value.toString();
  if (Number.isNaN(value.value)) return 'NAN';
  if (!Number.isFinite(value.value)) return value.value < 0 ? '-INF' : 'INF';
  const { negative, digits, decpt } = roundedDigits(value.value, 14);
  return gcvtLayout(negative, digits, decpt, 14, 'E');
}

/**
 * PHP `urlencode`: the UTF-8 bytes, `[A-Za-z0-9_.-]` kept, space as `+`, every other byte as
 * upper-case `%XX` (so `~` becomes `%7E`, unlike encodeURIComponent).
 * @throws Error when the string has an unpaired surrogate (it has no UTF-8 bytes).
 */
export function phpUrlencode(value: string): string {
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) {
    throw new Error('urlencode: string has an unpaired UTF-16 surrogate');
  }
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2d || byte === 0x2e || byte === 0x5f) {
      out += String.fromCharCode(byte);
    } else if (byte === 0x20) {
      out += '+';
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}
