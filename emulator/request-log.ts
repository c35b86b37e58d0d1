/** The log of /v1 requests, with anything that looks like a card number or CVC masked. */
import { TEST_CARDS, luhnValid } from './test-cards';
import type { LoggedRequest } from './types';

const SECRET_KEYS = /^(number|card_number|cardnumber|cvc|cvv|cvc2|cvv2|card\[number\]|card\[cvc\])$/i;
// 12 to 19 digits, optionally grouped with spaces or dashes: a card number wherever it appears.
const CARD_NUMBER = /\d(?:[ -]?\d){11,18}/g;

export class RequestLog {
  private entries: LoggedRequest[] = [];

  /** Adds an entry at arrival; the server fills in its status when it is known. */
  add(entry: LoggedRequest): LoggedRequest {
    this.entries.push(entry);
    return entry;
  }

  list(): LoggedRequest[] {
    return structuredClone(this.entries);
  }

  clear(): void {
    this.entries = [];
  }
}

export function maskSensitive(value: unknown, key?: string): unknown {
  if (typeof value === 'string') {
    if (key !== undefined && SECRET_KEYS.test(key)) return maskWhole(value);
    return maskCardNumbers(value);
  }
  if (Array.isArray(value)) return value.map((v) => maskSensitive(v, key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskSensitive(v, k);
    return out;
  }
  return value;
}

/**
 * Masks digit runs that are card numbers: Luhn-valid with at most 16 digits (every test card), or
 * a test card by number. Longer ids such as BillRun's 19-digit txId stay readable.
 */
export function maskCardNumbers(text: string): string {
  return text.replace(CARD_NUMBER, (m) => {
    const digits = m.replace(/\D/g, '');
    const isCard = (digits.length <= 16 && luhnValid(digits)) || KNOWN_CARD_NUMBERS.has(digits);
    return isCard ? `****${digits.slice(-4)}` : m;
  });
}

const KNOWN_CARD_NUMBERS = new Set(TEST_CARDS.map((c) => c.number).filter((n): n is string => n !== null));

function maskWhole(value: string): string {
  const digits = value.replace(/\D/g, '');
  return digits.length >= 12 ? `****${digits.slice(-4)}` : '***';
}
