import { readFileSync } from 'node:fs';
import path from 'node:path';
import { activeSecret, canonicalSignedText, computeSignature, type SharedSecret, signData, verifySignature } from '../../app/billrun/billrun-signature';
import { type JsonNode, parseJsonTree } from '../../app/billrun/php-json';
import { parseSharedSecrets } from '../../config';

interface Vector {
  id: string;
  note: string;
  secret: string;
  data: string;
  canonical: string;
  signature: string;
  valid: boolean;
}

// Computed with PHP 8.2 (copy of shared/vectors/billrun-signature.json).
const vectors: Vector[] = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'billrun-signature.json'), 'utf8'));
// In these two vectors the data was changed after signing: their `canonical` is the text that was
// signed, i.e. before the change, so it cannot equal the canonical text of the received data.
const TAMPERED_AFTER_SIGNING = new Set(['tampered-aid', 'tampered-ok-page']);

const NOW = new Date('2026-01-15T12:00:00Z');
const KEY = 'test-secret';
const tree = (text: string): JsonNode => parseJsonTree(text);
const canonical = (text: string): string => canonicalSignedText(tree(text));
const verify = (text: string, secrets: readonly SharedSecret[] = [{ key: KEY }], now = NOW): boolean => verifySignature(tree(text), secrets, now);
const BASE = '{"iframe":true,"aid":7,"name":"StripeCheckout","_t_":"1763700001","ok_page":"http://ok","fail_page":"http://fail"}';

describe('BillRun signature vectors (PHP 8.2)', () => {
  test('when the fixture is loaded, then it has valid and invalid vectors', () => {
    expect(vectors.filter((v) => v.valid).length).toBeGreaterThan(0);
    expect(vectors.filter((v) => !v.valid).length).toBeGreaterThan(0);
  });

  test.each(vectors.map((v) => [v.id, v] as const))('when vector %s is verified with its secret, then the answer is its "valid" field', (_id, v) => {
    expect(verifySignature(tree(v.data), [{ key: v.secret }], NOW)).toBe(v.valid);
  });

  test.each(vectors.filter((v) => !TAMPERED_AFTER_SIGNING.has(v.id)).map((v) => [v.id, v] as const))(
    'when the canonical text of vector %s is built, then it equals the PHP text byte for byte',
    (_id, v) => {
      expect(canonicalSignedText(tree(v.data))).toBe(v.canonical);
      // PHP's HMAC over that text is the signature, except where the vector used another secret.
      expect(computeSignature(v.canonical, v.secret) === v.signature).toBe(v.valid);
    },
  );

  test.each(vectors.filter((v) => TAMPERED_AFTER_SIGNING.has(v.id)).map((v) => [v.id, v] as const))(
    'when vector %s was changed after signing, then our text differs from the signed one PHP made',
    (_id, v) => {
      expect(v.valid).toBe(false);
      expect(computeSignature(v.canonical, v.secret)).toBe(v.signature);
      expect(canonicalSignedText(tree(v.data))).not.toBe(v.canonical);
    },
  );

  test('when the wrong-secret vector is checked with its own secret, then that secret did not make the signature', () => {
    const v = vectors.find((x) => x.id === 'wrong-secret')!;

    expect(canonicalSignedText(tree(v.data))).toBe(v.canonical);
    expect(computeSignature(v.canonical, v.secret)).not.toBe(v.signature);
  });
});

describe('canonicalSignedText', () => {
  test.each([
    ['_sig_ is removed', '{"a":1,"_sig_":"x"}', '{"a":1}'],
    ['a duplicate _sig_ is removed entirely', '{"_sig_":"x","a":1,"_sig_":"y"}', '{"a":1}'],
    ['removing _sig_ leaves keys 0..n-1', '{"0":"a","_sig_":"x"}', '["a"]'],
    [
      'the four fields are urlencoded',
      '{"return_url":"a b","name":"N#1","ok_page":"/ok","fail_page":"~"}',
      '{"return_url":"a+b","name":"N%231","ok_page":"%2Fok","fail_page":"%7E"}',
    ],
    ['other fields are not urlencoded', '{"type":"a b","note":"/"}', '{"type":"a b","note":"\\/"}'],
    ['nested fields of the same name are not urlencoded', '{"x":{"name":"a b"}}', '{"x":{"name":"a b"}}'],
    ['a null field is left null (isset)', '{"ok_page":null}', '{"ok_page":null}'],
    ['an int name becomes its decimal string', '{"name":5}', '{"name":"5"}'],
    ['a true name becomes "1"', '{"name":true}', '{"name":"1"}'],
    ['a false name becomes ""', '{"name":false}', '{"name":""}'],
    ['a float name uses PHP string conversion', '{"name":1e25}', '{"name":"1.0E%2B25"}'],
    ['a duplicate field keeps its first place and last value', '{"ok_page":"a","x":1,"ok_page":"b c"}', '{"ok_page":"b+c","x":1}'],
  ])('when %s, then the signed text follows PHP', (_name, text, expected) => {
    expect(canonical(text)).toBe(expected);
  });

  test.each([
    ['the top level is an array', '["a"]'],
    ['the top level is a string', '"a"'],
    ['a urlencoded field is an array (PHP TypeError)', '{"ok_page":["a"]}'],
    ['a urlencoded field is an object', '{"name":{"a":1}}'],
    ['a number overflows to INF (json_encode fails)', '{"amount":1e400}'],
  ])('when %s, then there is no signed text', (_name, text) => {
    expect(() => canonical(text)).toThrow();
  });
});

describe('verifySignature', () => {
  const signed = signData(BASE, KEY);
  const sig = JSON.parse(signed)._sig_ as string;
  const withSig = (value: string): string => BASE.replace(/}$/, `,"_sig_":${value}}`);

  test('when data is signed and verified with the same key, then it is accepted', () => {
    expect(verify(signed)).toBe(true);
  });

  test('when data is verified with another key, then it is refused', () => {
    expect(verify(signed, [{ key: 'other' }])).toBe(false);
  });

  test('when no secret is configured, then everything is refused', () => {
    expect(verify(signed, [])).toBe(false);
  });

  test.each([
    ['missing', BASE],
    ['a number', withSig('12')],
    ['null', withSig('null')],
    ['an array', withSig(`[${JSON.stringify(sig)}]`)],
    ['empty', withSig('""')],
    ['truncated', withSig(JSON.stringify(sig.slice(0, -1)))],
    ['one character too long', withSig(JSON.stringify(`${sig}0`))],
    ['the right hex in upper case', withSig(JSON.stringify(sig.toUpperCase()))],
    ['surrounded by spaces', withSig(JSON.stringify(` ${sig} `))],
    ['with one hex digit changed', withSig(JSON.stringify(sig.replace(/^./, (c) => (c === '0' ? '1' : '0'))))],
  ])('when _sig_ is %s, then the request is refused', (_name, text) => {
    expect(verify(text)).toBe(false);
  });

  test('when _sig_ appears twice, then the last one counts as in PHP', () => {
    expect(verify(BASE.replace(/}$/, `,"_sig_":"bad","_sig_":${JSON.stringify(sig)}}`))).toBe(true);
    expect(verify(BASE.replace(/}$/, `,"_sig_":${JSON.stringify(sig)},"_sig_":"bad"}`))).toBe(false);
  });

  test.each([
    ['the top level is an array', '[1]'],
    ['an urlencoded field is an array', `{"ok_page":["x"],"_sig_":${JSON.stringify(sig)}}`],
    ['a number overflows to INF', `{"amount":1e999,"_sig_":${JSON.stringify(sig)}}`],
  ])('when %s, then it is refused without throwing', (_name, text) => {
    expect(verify(text)).toBe(false);
  });

  test('when the data is re-serialised differently but means the same to PHP, then it is still accepted', () => {
    const reformatted =
      '{ "iframe" : true, "aid" : 7.0, "name" : "StripeCheckout", "_t_" : "1763700001",' +
      ` "ok_page" : "http:\\/\\/ok", "fail_page" : "http:\\/\\/fail", "_sig_" : ${JSON.stringify(sig)} }`;

    expect(verify(reformatted)).toBe(true);
  });

  test('when the key order changes, then it is refused (PHP signs in received order)', () => {
    const reordered = signed.replace('"iframe":true,"aid":7,', '"aid":7,"iframe":true,');

    expect(reordered).not.toBe(signed);
    expect(verify(reordered)).toBe(false);
  });
});

describe('secret rotation', () => {
  const y2025 = new Date('2025-01-01T00:00:00Z');
  const y2026 = new Date('2026-01-01T00:00:00Z');
  const y2027 = new Date('2027-01-01T00:00:00Z');
  const secrets: SharedSecret[] = [
    { key: 'old', from: y2025, to: y2026 },
    { key: 'current', from: y2026, to: y2027 },
    { key: 'next', from: y2027 },
  ];

  test('when data is signed with the secret of the current window, then the second secret accepts it', () => {
    expect(verify(signData(BASE, 'current'), secrets, NOW)).toBe(true);
  });

  test('when data is signed with an expired secret, then it is refused', () => {
    expect(verify(signData(BASE, 'old'), secrets, NOW)).toBe(false);
  });

  test('when data is signed with a secret whose window has not started, then it is refused', () => {
    expect(verify(signData(BASE, 'next'), secrets, NOW)).toBe(false);
  });

  test('when now equals "from", then the secret is valid; when now equals "to", then it is not', () => {
    expect(verify(signData(BASE, 'current'), secrets, y2026)).toBe(true);
    expect(verify(signData(BASE, 'current'), secrets, y2027)).toBe(false);
    expect(verify(signData(BASE, 'next'), secrets, y2027)).toBe(true);
  });

  test('when a secret has no window, then it is always valid', () => {
    expect(verify(signData(BASE, 'plain'), [{ key: 'old', to: y2026 }, { key: 'plain' }], NOW)).toBe(true);
  });

  test('when signing, then the first secret valid now is chosen', () => {
    expect(activeSecret(secrets, NOW)?.key).toBe('current');
    expect(activeSecret(secrets, new Date('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  test('when a configured key is empty, then it never verifies', () => {
    const text = BASE.replace(/}$/, `,"_sig_":${JSON.stringify(computeSignature(canonical(BASE), ''))}}`);

    expect(verify(text, [{ key: '' }])).toBe(false);
  });
});

describe('signData', () => {
  test('when text is signed, then _sig_ is the last key and everything else is kept as sent', () => {
    const text = '{"b":1,"10":10.0,"name":"StripeCheckout#2","ok_page":"https://a/ok"}';

    const out = signData(text, KEY);
    const sig = computeSignature(canonical(text), KEY);

    expect(out).toBe(`{"b":1,"10":10.0,"name":"StripeCheckout#2","ok_page":"https://a/ok","_sig_":"${sig}"}`);
    expect(verify(out)).toBe(true);
  });

  test('when the data already has a _sig_, then it is replaced and moved last', () => {
    const out = signData('{"_sig_":"old","a":1}', KEY);

    expect(out).toMatch(/^\{"a":1,"_sig_":"[0-9a-f]{128}"\}$/);
    expect(verify(out)).toBe(true);
  });

  test('when a parsed tree is signed, then the result equals signing its text', () => {
    expect(signData(tree(BASE), KEY)).toBe(signData(BASE, KEY));
  });

  test('when every valid vector is re-signed with its secret, then the PHP signature comes out', () => {
    for (const v of vectors.filter((x) => x.valid)) {
      expect(JSON.parse(signData(v.data, v.secret))._sig_).toBe(v.signature);
    }
  });

  test.each([
    ['malformed JSON', '{"a":1,}'],
    ['not an object', '[1]'],
  ])('when the data is %s, then signing fails', (_name, text) => {
    expect(() => signData(text, KEY)).toThrow();
  });
});

describe('parseSharedSecrets', () => {
  test('when keys are comma-separated, then each is a secret without a window', () => {
    expect(parseSharedSecrets(' k1, k2 ')).toEqual([{ key: 'k1' }, { key: 'k2' }]);
  });

  test('when a JSON array is given, then windows are read as dates', () => {
    const raw = '[{"key":"a","to":"2026-01-01T00:00:00Z"},{"key":"b","from":"2026-01-01"},{"key":"c"}]';

    expect(parseSharedSecrets(raw)).toEqual([
      { key: 'a', to: new Date('2026-01-01T00:00:00Z') },
      { key: 'b', from: new Date('2026-01-01T00:00:00Z') },
      { key: 'c' },
    ]);
  });

  test.each([
    ['empty', '   ', /no shared secret/],
    ['an empty key in a list', 'a,,b', /#2 is empty/],
    ['invalid JSON', '[{"key":}]', /not valid JSON/],
    ['an empty JSON array', '[]', /non-empty JSON array/],
    ['a non-object entry', '["a"]', /#1 must be an object/],
    ['a missing key', '[{"from":"2026-01-01"}]', /"key" must be a non-empty string/],
    ['an unknown field', '[{"key":"a","until":"2026-01-01"}]', /unknown field\(s\): until/],
    ['a date without a zone', '[{"key":"a","from":"2026-01-01T00:00:00"}]', /"from" must be an ISO 8601 date/],
    ['a non-date', '[{"key":"a","to":"tomorrow"}]', /"to" must be an ISO 8601 date/],
    ['an impossible date', '[{"key":"a","to":"2026-13-45"}]', /not a valid date/],
    ['from not before to', '[{"key":"a","from":"2026-01-02","to":"2026-01-01"}]', /"from" must be before "to"/],
  ])('when the value is %s, then a readable error is thrown', (_name, raw, message) => {
    expect(() => parseSharedSecrets(raw)).toThrow(message);
  });
});
