import { formatMinor, toMinorUnits } from '../../app/payments/money';

describe('major units to minor units', () => {
  test.each([
    ['USD', '19.99', 1999],
    ['USD', 19.99, 1999], // BillRun's (int)(19.99*100) gives 1998
    ['USD', '0.50', 50],
    ['USD', '10', 1000],
    ['USD', '19.990', 1999],
    ['USD', 1e3, 100000],
    ['USD', '1.5e2', 15000],
    ['JPY', '500', 500], // BillRun multiplies by 100
    ['JPY', 500, 500],
    ['KRW', '1000', 1000],
    ['IDR', '10000', 1000000],
    ['IDR', 10000, 1000000],
    ['SGD', '0.5', 50],
    ['MYR', '2.00', 200],
    ['THB', '10', 1000],
    ['CNY', '4.10', 410],
    ['PHP', '30', 3000],
    ['usd', '1.01', 101],
    ['USD', '999999.99', 99999999],
  ])('when %s %p, then %p minor units', (currency, amount, minor) => {
    expect(toMinorUnits(amount, currency)).toEqual({ minor, currency: currency.toUpperCase() });
  });

  test.each([
    ['USD', '0.49', /Amount too small: at least 0.50 USD/],
    ['JPY', '1.5', /JPY has no decimals/],
    ['JPY', '49', /Amount too small: at least 50 JPY/],
    ['USD', '10.001', /USD has only 2 decimals/],
    ['USD', 10.001, /USD has only 2 decimals/],
    ['THB', '9.99', /Amount too small/],
    ['USD', '1000000.00', /Amount too large/],
    ['IDR', '1000000', /Amount too large/],
    ['USD', '-5', /Invalid amount/],
    ['USD', '', /Invalid amount/],
    ['USD', 'abc', /Invalid amount/],
    ['USD', '1,00', /Invalid amount/],
    ['USD', null, /Invalid amount/],
    ['USD', Number.NaN, /Invalid amount/],
    ['USD', '1e-7', /USD has only 2 decimals/],
    ['EUR', '10', /Unsupported currency/],
  ])('when %s %p, then refused (%p)', (currency, amount, message) => {
    expect(() => toMinorUnits(amount, currency)).toThrow(message);
  });

  test('when formatting back, then the decimal is exact', () => {
    expect(formatMinor(1999, 'USD')).toBe('19.99');
    expect(formatMinor(5, 'USD')).toBe('0.05');
    expect(formatMinor(500, 'JPY')).toBe('500');
    expect(formatMinor(1000000, 'IDR')).toBe('10000.00');
  });
});
