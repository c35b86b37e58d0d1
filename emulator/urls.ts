/**
 * Stripe's URL parameters (success_url, return_url, webhook url): absolute http(s) URLs. Stripe
 * refuses control characters and spaces in them; WHATWG `new URL` would quietly strip a CR/LF
 * (or encode a space), so they are refused before parsing.
 */
export function isHttpUrl(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(value)) return false;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
