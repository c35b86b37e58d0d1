import { parseForm } from '../../emulator/form-parser';
import { validateParams, p } from '../../emulator/params';

describe('emulator: form parsing (bracket notation)', () => {
  it.each([
    ['a=1&b=two', { a: '1', b: 'two' }],
    ['metadata[k]=v&metadata[other]=w%20x', { metadata: { k: 'v', other: 'w x' } }],
    ['expand[0]=setup_intent.payment_method&expand[1]=customer', { expand: ['setup_intent.payment_method', 'customer'] }],
    ['expand[]=a&expand[]=b', { expand: ['a', 'b'] }],
    ['x[y][z]=1&x[y][w]=2', { x: { y: { z: '1', w: '2' } } }],
    ['items[0][price]=p1&items[0][qty]=2&items[1][price]=p2', { items: [{ price: 'p1', qty: '2' }, { price: 'p2' }] }],
    ['email=a%2Bb%40example.com&name=Ada+Lovelace', { email: 'a+b@example.com', name: 'Ada Lovelace' }],
    ['empty=&flag', { empty: '', flag: '' }],
    ['__proto__[polluted]=yes&ok=1', { ok: '1' }],
  ])('when parsing %s, then it gives the nested value', (text, expected) => {
    expect(parseForm(text)).toEqual(expected);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('when metadata keys look like indexes, then the schema still reads them as an object', () => {
    const parsed = validateParams(parseForm('metadata[0]=zero&metadata[1]=one'), { metadata: p.metadata() });
    expect(parsed.metadata).toEqual({ '0': 'zero', '1': 'one' });
  });

  it('when integers and booleans arrive as strings, then the schema converts them', () => {
    const parsed = validateParams(parseForm('limit=3&confirm=true'), { limit: p.integer(), confirm: p.boolean() });
    expect(parsed).toEqual({ limit: 3, confirm: true });
  });
});
