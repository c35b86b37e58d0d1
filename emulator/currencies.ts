/**
 * Currencies the emulator charges in: minor-unit exponent, Stripe's minimum charge amount and how
 * Stripe writes amounts in error messages ("Refund amount ($20.00) is greater than ...").
 */
import { invalidRequest } from './stripe-errors';

interface CurrencyInfo {
  /** 0 for zero-decimal currencies (JPY, KRW): amounts are whole units. */
  exponent: 0 | 2;
  /** Smallest charge in minor units (Stripe's table; for currencies without a fixed minimum, about USD 0.50). */
  minimum: number;
  symbol: string;
}

const CURRENCIES: ReadonlyMap<string, CurrencyInfo> = new Map<string, CurrencyInfo>([
  ['usd', { exponent: 2, minimum: 50, symbol: '$' }],
  ['sgd', { exponent: 2, minimum: 50, symbol: 'S$' }],
  ['myr', { exponent: 2, minimum: 200, symbol: 'RM' }],
  ['thb', { exponent: 2, minimum: 1000, symbol: '฿' }],
  ['jpy', { exponent: 0, minimum: 50, symbol: '¥' }],
  ['php', { exponent: 2, minimum: 3000, symbol: '₱' }],
  ['idr', { exponent: 2, minimum: 800000, symbol: 'Rp' }],
  ['cny', { exponent: 2, minimum: 400, symbol: 'CN¥' }],
  ['krw', { exponent: 0, minimum: 700, symbol: '₩' }],
  ['eur', { exponent: 2, minimum: 50, symbol: '€' }],
  ['gbp', { exponent: 2, minimum: 30, symbol: '£' }],
  ['aud', { exponent: 2, minimum: 50, symbol: 'A$' }],
  ['cad', { exponent: 2, minimum: 50, symbol: 'CA$' }],
  ['hkd', { exponent: 2, minimum: 400, symbol: 'HK$' }],
  ['inr', { exponent: 2, minimum: 50, symbol: '₹' }],
  ['nzd', { exponent: 2, minimum: 50, symbol: 'NZ$' }],
  ['vnd', { exponent: 0, minimum: 13000, symbol: '₫' }],
]);

/** Stripe's limit: at most 8 digits of minor units. */
export const MAX_AMOUNT = 99_999_999;

/** A `currency` parameter, lowercased; unknown codes are refused as Stripe refuses them. */
export function checkCurrency(raw: string, param = 'currency'): string {
  const code = raw.toLowerCase();
  if (!CURRENCIES.has(code)) {
    throw invalidRequest(
      `Invalid currency: ${code}. Stripe currently supports these currencies (the emulator a subset): ${[...CURRENCIES.keys()].join(', ')}`,
      { param },
    );
  }
  return code;
}

/** `$20.00`, `¥500`, `RM2.00`: how Stripe's messages show an amount. */
export function formatAmount(minor: number, currency: string): string {
  const info = CURRENCIES.get(currency) ?? { exponent: 2, minimum: 0, symbol: `${currency.toUpperCase()} ` };
  if (info.exponent === 0) return `${info.symbol}${minor.toLocaleString('en-US')}`;
  const major = Math.floor(minor / 100).toLocaleString('en-US');
  return `${info.symbol}${major}.${String(minor % 100).padStart(2, '0')}`;
}

/** Charge amounts: at least 1, at least the currency's minimum, at most 8 digits. */
export function checkChargeAmount(amount: number, currency: string, param = 'amount'): void {
  if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', { param });
  const info = CURRENCIES.get(currency);
  if (info && amount < info.minimum) {
    throw invalidRequest(`Amount must be at least ${formatAmount(info.minimum, currency)} ${currency}`, {
      code: 'amount_too_small',
      param,
    });
  }
  if (amount > MAX_AMOUNT) {
    throw invalidRequest(`Amount must be no more than ${formatAmount(MAX_AMOUNT, currency)}`, { code: 'amount_too_large', param });
  }
}
