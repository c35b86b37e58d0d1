import { AppError } from '../shared/app-error';

/** The currencies the service charges in, with their minor-unit exponent (JPY and KRW have none). */
export const CURRENCIES = {
  USD: { exponent: 2, minimum: 50 },
  SGD: { exponent: 2, minimum: 50 },
  MYR: { exponent: 2, minimum: 200 },
  THB: { exponent: 2, minimum: 1000 },
  JPY: { exponent: 0, minimum: 50 },
  // Stripe's table names no fixed minimum for these: about USD 0.50, rounded up.
  PHP: { exponent: 2, minimum: 3000 },
  IDR: { exponent: 2, minimum: 800000 },
  CNY: { exponent: 2, minimum: 400 },
  KRW: { exponent: 0, minimum: 700 },
} as const satisfies Record<string, { exponent: number; minimum: number }>;

export type Currency = keyof typeof CURRENCIES;

/** Stripe's limit: at most 8 digits of minor units. */
export const MAX_MINOR_UNITS = 99_999_999;

/** An amount of money: integer minor units and the currency they count. */
export interface Money {
  minor: number;
  currency: Currency;
}

export function parseCurrency(value: unknown): Currency {
  const code = typeof value === 'string' ? value.trim().toUpperCase() : '';
  // Own keys only: `in` would find `constructor` and the rest of Object.prototype.
  if (!Object.hasOwn(CURRENCIES, code)) {
    throw new AppError('invalid_input', `Unsupported currency: expected one of ${Object.keys(CURRENCIES).join(', ')}`, { code: 'currency' });
  }
  return code as Currency;
}

// A plain decimal, optionally with an exponent as JSON allows (1e3, 1.5E+2).
const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Major units (a decimal string, or a JSON number via its shortest decimal form) to exact minor
 * units, by moving the decimal point in the digits: never a float multiplication, so 19.99 USD is
 * 1999 (not the 1998 a float multiplication truncates to) and 500 JPY is 500 (not x100).
 */
export function toMinorUnits(amount: unknown, currencyValue: unknown, options: { enforceMinimum?: boolean; allowZero?: boolean } = {}): Money {
  const currency = parseCurrency(currencyValue);
  const { exponent, minimum } = CURRENCIES[currency];
  const text = typeof amount === 'number' && Number.isFinite(amount) ? String(amount) : typeof amount === 'string' ? amount.trim() : undefined;
  const match = text === undefined ? null : DECIMAL.exec(text);
  if (!match) throw new AppError('invalid_input', 'Invalid amount: expected a positive decimal number', { code: 'amount' });

  const [, intPart, fracPart = '', expPart = '0'] = match;
  const shift = Number(expPart);
  if (Math.abs(shift) > 30) throw new AppError('invalid_input', 'Invalid amount: expected a positive decimal number', { code: 'amount' });
  const allDigits = intPart + fracPart;
  // Where the decimal point falls in allDigits once the amount is counted in minor units.
  const minorPoint = intPart.length + shift + exponent;
  if (/[1-9]/.test(allDigits.slice(Math.max(minorPoint, 0)))) {
    throw new AppError('invalid_input', `Invalid amount: ${currency} has ${exponent === 0 ? 'no decimals' : `only ${exponent} decimals`}`, { code: 'amount' });
  }
  const whole =
    minorPoint <= 0
      ? '0'
      : allDigits
          .padEnd(minorPoint, '0')
          .slice(0, minorPoint)
          .replace(/^0+(?=\d)/, '');
  const tooLarge = () =>
    new AppError('invalid_input', `Amount too large: at most ${formatMinor(MAX_MINOR_UNITS, currency)} ${currency}`, { code: 'amount_too_large' });
  if (whole.length > String(MAX_MINOR_UNITS).length) throw tooLarge();
  const minor = Number(whole);
  if (minor > MAX_MINOR_UNITS) throw tooLarge();
  const least = options.allowZero ? 0 : options.enforceMinimum === false ? 1 : minimum;
  if (minor < least)
    throw new AppError('invalid_input', `Amount too small: at least ${formatMinor(least, currency)} ${currency}`, { code: 'amount_too_small' });
  return { minor, currency };
}

/** Minor units back to a major-unit decimal string (1999 USD -> "19.99", 500 JPY -> "500"). */
export function formatMinor(minor: number, currency: Currency): string {
  const { exponent } = CURRENCIES[currency];
  if (exponent === 0) return String(minor);
  const s = String(minor).padStart(exponent + 1, '0');
  return `${s.slice(0, -exponent)}.${s.slice(-exponent)}`;
}
