import { isIP } from 'node:net';
/** Loopback, private, link-local and unique-local addresses (and localhost) are not the merchant's public endpoint. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number);
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (isIP(host) === 6)
    return host === '::1' || host === '::' || host.startsWith('fc') || host.startsWith('fd') || host.startsWith('fe80') || host.startsWith('::ffff:');
  return false;
}

/** The answer to a merchant's webhook URL on a loopback or private address (outside development). */
const PRIVATE_WEBHOOK_MESSAGE = 'must be a public address (not loopback or private)';

/** Outside development a signal may not be aimed inside our own network (SSRF): the message refusing `url`, if any. */
export function privateWebhookProblem(url: string | undefined, refusePrivate: boolean | undefined): string | undefined {
  return url && refusePrivate && isPrivateHost(new URL(url).hostname) ? PRIVATE_WEBHOOK_MESSAGE : undefined;
}
