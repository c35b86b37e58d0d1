import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SharedSecret } from '../../config';
import { type JsonNode, type PhpArray, parseJsonTree, phpJsonDecode, phpJsonEncodeValue, phpToString, phpUrlencode, stringifyJsonTree } from './php-json';

/**
 * BillRun's request signature (`_sig_`), bit-compatible with `Billrun_Utils_Security` and
 * `PaymentgatewaysController::getRequestAction` (PHP 8.2); see spec/billrun.md section 3.
 */

const SIGNATURE_FIELD = '_sig_';
/** BillRun urlencode()s these top-level values before signing (and signs the encoded form). */
const URLENCODED_FIELDS = ['return_url', 'name', 'ok_page', 'fail_page'] as const;
/** Lower-case hex of a SHA-512 HMAC. */
const SIGNATURE_HEX_LENGTH = 128;

export type { SharedSecret };

/**
 * The exact text BillRun feeds to HMAC for a decoded `data` object: PHP `json_encode` of the
 * assoc array without `_sig_`, with `return_url`, `name`, `ok_page`, `fail_page` urlencoded.
 * @throws Error when PHP could not sign it either: top level not an object, one of those fields an
 *   array (urlencode TypeError), a number overflowing to INF (json_encode returns false).
 */
export function canonicalSignedText(tree: JsonNode): string {
  if (tree.kind !== 'object') throw new Error('BillRun data must be a JSON object');
  const data = phpJsonDecode(tree) as PhpArray;
  // unset() after decoding: with a duplicate `_sig_` key PHP has already kept only the last value.
  data.delete(SIGNATURE_FIELD);
  for (const field of URLENCODED_FIELDS) {
    const value = data.get(field);
    // BillRun guards with isset(), which is false for null: a null stays null in the signed text.
    if (value !== undefined && value !== null) data.set(field, phpUrlencode(phpToString(value)));
  }
  return phpJsonEncodeValue(data);
}

/** Lower-case hex HMAC-SHA512 of the canonical text (PHP `hash_hmac('sha512', ...)`). */
export function computeSignature(canonical: string, key: string): string {
  return createHmac('sha512', key).update(canonical, 'utf8').digest('hex');
}

/** Whether `now` is inside the secret's window (`from` inclusive, `to` exclusive). */
export function isSecretActive(secret: SharedSecret, now: Date): boolean {
  const t = now.getTime();
  if (secret.from !== undefined && !(secret.from.getTime() <= t)) return false;
  if (secret.to !== undefined && !(t < secret.to.getTime())) return false;
  return true;
}

/** The first secret valid at `now`, the one to sign with. */
export function activeSecret(secrets: readonly SharedSecret[], now: Date): SharedSecret | undefined {
  return secrets.find((s) => s.key !== '' && isSecretActive(s, now));
}

/**
 * Checks `_sig_` of a parsed `data` object against every secret valid at `now`.
 * Never throws: malformed input (no object, `_sig_` missing or not a string, unsignable values)
 * is simply not authentic. Every active secret is compared in constant time, with no early exit.
 */
export function verifySignature(tree: JsonNode, secrets: readonly SharedSecret[], now: Date): boolean {
  try {
    if (tree.kind !== 'object') return false;
    const signature = lastValue(tree, SIGNATURE_FIELD);
    // PHP's hash_equals() throws a TypeError for a non-string: BillRun refuses those too.
    if (signature === undefined || signature.kind !== 'string') return false;
    const canonical = canonicalSignedText(tree);

    // Fixed-size buffer so timingSafeEqual always gets equal lengths; the length check is separate.
    const given = Buffer.alloc(SIGNATURE_HEX_LENGTH);
    const givenBytes = Buffer.from(signature.value, 'utf8');
    givenBytes.copy(given);
    let matched = 0;
    for (const secret of secrets) {
      if (secret.key === '' || !isSecretActive(secret, now)) continue;
      const expected = Buffer.from(computeSignature(canonical, secret.key), 'ascii');
      matched |= timingSafeEqual(given, expected) ? 1 : 0;
    }
    return matched === 1 && givenBytes.length === SIGNATURE_HEX_LENGTH;
  } catch {
    return false;
  }
}

/** The last value of a top-level key: json_decode keeps the last of duplicate keys. */
function lastValue(tree: Extract<JsonNode, { kind: 'object' }>, key: string): JsonNode | undefined {
  let found: JsonNode | undefined;
  for (const [k, v] of tree.entries) if (k === key) found = v;
  return found;
}

/**
 * Signs BillRun `data`: returns its JSON text with `_sig_` as the last key (an existing `_sig_`
 * is replaced). Key order, duplicate keys and number tokens of the input are kept, so the output
 * verifies exactly like the input would. Does not add `_t_`.
 * @param fields the data as JSON text (order preserved) or as a parsed tree; must be an object.
 * @throws JsonSyntaxError for malformed text; Error for data PHP could not sign.
 */
export function signData(fields: JsonNode | string, key: string): string {
  const tree = typeof fields === 'string' ? parseJsonTree(fields) : fields;
  if (tree.kind !== 'object') throw new Error('BillRun data must be a JSON object');
  if (key === '') throw new Error('The signing key must not be empty');
  const unsigned: JsonNode = { kind: 'object', entries: tree.entries.filter(([k]) => k !== SIGNATURE_FIELD) };
  const signature = computeSignature(canonicalSignedText(unsigned), key);
  return stringifyJsonTree({
    kind: 'object',
    entries: [...unsigned.entries, [SIGNATURE_FIELD, { kind: 'string', value: signature }]],
  });
}
