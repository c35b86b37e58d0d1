import { phpTruthy, withDangerMessage, withQueryParam } from '../../app/billrun/billrun-wire';

describe('adding txId to a client URL', () => {
  test.each([
    ['http://okpage', 'http://okpage?txId=9488016758585159237'],
    ['https://a/b?x=1', 'https://a/b?x=1&txId=9488016758585159237'],
    ['https://a/b?txId=1&x=1', 'https://a/b?x=1&txId=9488016758585159237'],
    ['https://a/b?x=1&txId=1', 'https://a/b?x=1&txId=9488016758585159237'],
    ['https://Shop.Example/pay?next=/x/y&sig=a~b,c', 'https://Shop.Example/pay?next=/x/y&sig=a~b,c&txId=9488016758585159237'],
    ['https://a/b?flag', 'https://a/b?flag&txId=9488016758585159237'],
    ['https://a/b?q=a%20b', 'https://a/b?q=a%20b&txId=9488016758585159237'],
    ['https://a/b?x=1#top', 'https://a/b?x=1&txId=9488016758585159237#top'],
    ['https://a/b?', 'https://a/b?txId=9488016758585159237'],
  ])('when the page is %s, then it becomes %s', (url, expected) => {
    expect(withQueryParam(url, 'txId', '9488016758585159237')).toBe(expected);
  });

  test("when a danger message is added, then it is BillRun's JSON, URL-encoded, after ? or &", () => {
    expect(withDangerMessage('https://a/ret', 'No "card"')).toBe(
      'https://a/ret?message=%7B%22content%22%3A%22No%20%5C%22card%5C%22%22%2C%22type%22%3A%22danger%22%7D',
    );
    expect(withDangerMessage('https://a/ret?tab=1', 'x')).toMatch(/^https:\/\/a\/ret\?tab=1&message=/);
  });
});

describe('PHP truthiness', () => {
  test.each([
    [true, true],
    ['1', true],
    ['false', true],
    ['0.0', true],
    [1, true],
    [false, false],
    ['0', false],
    ['', false],
    [0, false],
    [null, false],
    [undefined, false],
    [[], false],
  ])('when the value is %p, then %p', (value, truthy) => {
    expect(phpTruthy(value)).toBe(truthy);
  });
});
