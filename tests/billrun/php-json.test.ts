import {
  JsonSyntaxError,
  parseJsonTree,
  phpJsonDecode,
  phpJsonEncode,
  phpToString,
  phpUrlencode,
  stringifyJsonTree,
  toPlainValue,
} from '../../app/billrun/php-json';

const encode = (text: string): string => phpJsonEncode(parseJsonTree(text));
const phpString = (text: string): string => phpToString(phpJsonDecode(parseJsonTree(text)));
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('parseJsonTree', () => {
  test('when an object has integer-like and duplicate keys, then the tree keeps their order and every entry', () => {
    const tree = parseJsonTree('{"b":1,"10":2.50,"a":true,"b":null}');

    expect(tree).toEqual({
      kind: 'object',
      entries: [
        ['b', { kind: 'number', raw: '1' }],
        ['10', { kind: 'number', raw: '2.50' }],
        ['a', { kind: 'bool', value: true }],
        ['b', { kind: 'null' }],
      ],
    });
  });

  test('when strings hold escapes, then they are decoded, surrogate pairs included', () => {
    const tree = parseJsonTree(String.raw`["a\/b\\c\"d\b\f\n\r\t", "Caf\u00e9 \ud83d\ude00", "raw é 😀"]`);

    expect(tree).toEqual({
      kind: 'array',
      items: [
        { kind: 'string', value: 'a/b\\c"d\b\f\n\r\t' },
        { kind: 'string', value: 'Café 😀' },
        { kind: 'string', value: 'raw é 😀' },
      ],
    });
  });

  test.each([
    ['a scalar', ' 12 ', { kind: 'number', raw: '12' }],
    ['a string', '"x"', { kind: 'string', value: 'x' }],
    ['null', 'null', { kind: 'null' }],
    ['an empty object with whitespace', ' \t\r\n{ \n}', { kind: 'object', entries: [] }],
  ])('when the text is %s at the top level, then it parses', (_name, text, expected) => {
    expect(parseJsonTree(text)).toEqual(expected);
  });

  test.each([
    ['empty input', ''],
    ['only whitespace', '  '],
    ['a trailing comma in an object', '{"a":1,}'],
    ['a trailing comma in an array', '[1,]'],
    ['a missing value', '{"a":}'],
    ['a leading zero', '01'],
    ['a leading zero after minus', '-01'],
    ['a plus sign', '+1'],
    ['a bare minus', '-'],
    ['a fraction without digits', '1.'],
    ['a fraction without integer part', '.5'],
    ['an exponent without digits', '1e'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['single quotes', "{'a':1}"],
    ['an unquoted key', '{a:1}'],
    ['a comment', '[1 /* c */]'],
    ['a raw control character in a string', '"a\u0001b"'],
    ['a raw newline in a string', '"a\nb"'],
    ['an unknown escape', '"\\x41"'],
    ['a short \\u escape', '"\\u12"'],
    ['a lone high surrogate escape', '"\\ud83d"'],
    ['a lone low surrogate escape', '"\\ude00"'],
    ['a high surrogate escape followed by text', '"\\ud83dx"'],
    ['two high surrogate escapes', '"\\ud83d\\ud83d"'],
    ['a raw lone surrogate', '"a\ud83d"'],
    ['an unterminated string', '"abc'],
    ['an unterminated object', '{"a":1'],
    ['trailing data', '{} {}'],
    ['a byte order mark', '\ufeff{}'],
    ['a misspelled literal', 'tru'],
    ['nesting deeper than 512', nested(513)],
  ])('when the text has %s, then it is rejected with a JsonSyntaxError', (_name, text) => {
    expect(() => parseJsonTree(text)).toThrow(JsonSyntaxError);
  });

  test('when the text is malformed, then the error tells the position', () => {
    let error: unknown;
    try {
      parseJsonTree('[1,]');
    } catch (err) {
      error = err;
    }

    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect((error as JsonSyntaxError).position).toBe(3);
    expect((error as JsonSyntaxError).message).toContain('position 3');
  });

  test('when nesting is exactly 512 deep (PHP default depth), then it parses', () => {
    expect(() => parseJsonTree(nested(512))).not.toThrow();
  });
});

describe('toPlainValue', () => {
  test('when a tree is converted, then the value equals JSON.parse of the same text', () => {
    const text = '{"b":1,"10":[2.5,-0,1e3,{"x":null}],"a":"é","b":false,"__proto__":{"y":1}}';

    const value = toPlainValue(parseJsonTree(text));

    expect(value).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value as object, '__proto__')).toBe(true);
  });
});

describe('stringifyJsonTree', () => {
  test('when a tree is written back, then order, duplicates and number tokens survive', () => {
    const text = '{"b":1.0,"10":[1e3,-0],"b":"x/é"}';

    expect(stringifyJsonTree(parseJsonTree(text))).toBe('{"b":1.0,"10":[1e3,-0],"b":"x/é"}');
  });
});

describe('phpJsonEncode numbers', () => {
  test.each([
    ['10', '10'],
    ['-5', '-5'],
    ['-0', '0'],
    ['9223372036854775807', '9223372036854775807'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['10.0', '10'],
    ['1e3', '1000'],
    ['1E3', '1000'],
    ['100e-2', '1'],
    ['10.5', '10.5'],
    ['-1.5', '-1.5'],
    ['0.1', '0.1'],
    ['0.5', '0.5'],
    ['123.456', '123.456'],
    ['0.30000000000000004', '0.30000000000000004'],
    ['1.5e-7', '1.5e-7'],
    ['1e-5', '1.0e-5'],
    ['0.0001', '0.0001'],
    ['0.001', '0.001'],
    ['1e16', '10000000000000000'],
    ['1e17', '1.0e+17'],
    ['1e22', '1.0e+22'],
    ['12345678901234567890', '1.2345678901234567e+19'],
    ['1.2345678901234567e19', '1.2345678901234567e+19'],
    ['9223372036854775808', '9.223372036854776e+18'],
    ['-9223372036854775809', '-9.223372036854776e+18'],
    ['-0.0', '-0'],
    ['-1e-400', '-0'],
    ['1e-400', '0'],
    ['1.7976931348623157e308', '1.7976931348623157e+308'],
    ['5e-324', '5.0e-324'],
  ])('when the token is %s, then PHP writes %s', (token, expected) => {
    expect(encode(token)).toBe(expected);
  });

  test('when a number overflows to INF, then encoding fails as json_encode does', () => {
    expect(() => encode('[1e400]')).toThrow(/Inf and NaN/);
  });
});

describe('phpJsonEncode strings', () => {
  test.each([
    ['plain ASCII', '"abc <>&\'"', '"abc <>&\'"'],
    ['a slash', '"a/b"', '"a\\/b"'],
    ['an escaped slash', '"a\\/b"', '"a\\/b"'],
    ['quote and backslash', '"\\"\\\\"', '"\\"\\\\"'],
    ['short escapes', '"\\b\\f\\n\\r\\t"', '"\\b\\f\\n\\r\\t"'],
    ['other control characters', '"\\u0001\\u001f\\u0000"', '"\\u0001\\u001f\\u0000"'],
    ['an upper-case hex escape', '"\\u001F"', '"\\u001f"'],
    ['DEL', '"\\u007f"', '"\u007f"'],
    ['Latin-1', '"Café"', '"Caf\\u00e9"'],
    ['BMP characters', '"Zürich €\u2028"', '"Z\\u00fcrich \\u20ac\\u2028"'],
    ['an astral character', '"😀"', '"\\ud83d\\ude00"'],
    ['an escaped astral character', '"\\uD83D\\uDE00"', '"\\ud83d\\ude00"'],
  ])('when the string has %s, then PHP escapes it', (_name, text, expected) => {
    expect(encode(text)).toBe(expected);
  });
});

describe('phpJsonEncode arrays (PHP assoc-array semantics)', () => {
  test.each([
    ['an empty object becomes a list', '{}', '[]'],
    ['an empty array', '[]', '[]'],
    ['keys 0..n-1 in order become a list', '{"0":"a","1":"b"}', '["a","b"]'],
    ['keys out of order stay an object', '{"1":"a","0":"b"}', '{"1":"a","0":"b"}'],
    ['a gap stays an object', '{"0":"a","2":"b"}', '{"0":"a","2":"b"}'],
    ['"00" is not an int key', '{"00":"a"}', '{"00":"a"}'],
    ['"-0" is not an int key', '{"-0":"a"}', '{"-0":"a"}'],
    ['"1.0" is not an int key', '{"0":"a","1.0":"b"}', '{"0":"a","1.0":"b"}'],
    ['integer-like keys keep their place', '{"b":1,"10":2,"a":3}', '{"b":1,"10":2,"a":3}'],
    ['a duplicate keeps the first place and the last value', '{"a":1,"b":2,"a":3}', '{"a":3,"b":2}'],
    ['a duplicate int key still makes a list', '{"0":1,"0":2}', '[2]'],
    ['an empty key', '{"":1}', '{"":1}'],
    ['keys are escaped like strings', '{"a/é":1}', '{"a\\/\\u00e9":1}'],
    ['nested empty objects become lists', '[1,{},[[]],{"x":{}}]', '[1,[],[[]],{"x":[]}]'],
    ['literals', '[true,false,null]', '[true,false,null]'],
    ['whitespace is dropped', '{ "a" : [ 1 , 2 ] }', '{"a":[1,2]}'],
  ])('when %s, then PHP writes it accordingly', (_name, text, expected) => {
    expect(encode(text)).toBe(expected);
  });
});

describe('phpToString (the string urlencode() receives)', () => {
  test.each([
    ['an int', '-5', '-5'],
    ['true', 'true', '1'],
    ['false', 'false', ''],
    ['null', 'null', ''],
    ['a float with zero fraction', '10.0', '10'],
    ['a float', '1.5', '1.5'],
    ['a big float', '1e25', '1.0E+25'],
    ['1e15', '1e15', '1.0E+15'],
    ['a small float', '0.00001', '1.0E-5'],
    ['0.0001', '0.0001', '0.0001'],
    // `precision` is 14 for string conversion, not serialize_precision.
    ['a float with 17 digits', '0.30000000000000004', '0.3'],
    ['an integer beyond int64', '12345678901234567890', '1.2345678901235E+19'],
    // zend_dtoa rounds an exact half to even.
    ['an exact half, even digit kept', '123456789012345.0', '1.2345678901234E+14'],
    ['an exact half, odd digit bumped', '123456789012355.0', '1.2345678901236E+14'],
    ['negative zero', '-0.0', '-0'],
    ['INF', '1e400', 'INF'],
  ])('when the value is %s, then PHP converts it to %j', (_name, text, expected) => {
    expect(phpString(text)).toBe(expected);
  });

  test('when the value is an array, then it cannot be converted', () => {
    expect(() => phpString('["a"]')).toThrow();
    expect(() => phpString('{}')).toThrow();
  });
});

describe('phpUrlencode', () => {
  test.each([
    ['AZaz09_.-', 'AZaz09_.-'],
    ['a b', 'a+b'],
    ['~', '%7E'],
    ['*+/:?#&=%', '%2A%2B%2F%3A%3F%23%26%3D%25'],
    ['StripeCheckout#2', 'StripeCheckout%232'],
    ['https://shop.example/pay/ok?lang=en&x=a b~c#top', 'https%3A%2F%2Fshop.example%2Fpay%2Fok%3Flang%3Den%26x%3Da+b%7Ec%23top'],
    ['é', '%C3%A9'],
    ['😀', '%F0%9F%98%80'],
    ['\n', '%0A'],
    ['', ''],
  ])('when %j is urlencoded, then PHP gives %j', (input, expected) => {
    expect(phpUrlencode(input)).toBe(expected);
  });

  test('when the string has an unpaired surrogate, then it is refused (no UTF-8 form)', () => {
    expect(() => phpUrlencode('a\ud83d')).toThrow();
  });
});
