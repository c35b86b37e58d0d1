import type { Request } from 'express';
import type { Config } from '../../config';
import { unixSeconds } from '../shared/clock';
import { verifyToken } from './billrun-oauth';
import type { JsonNode } from './php-json';
import { verifySignature } from './billrun-signature';

export type AuthResult = { ok: true; via: 'bearer' | 'signature' } | { ok: false; reason: string };

const bearerToken = (req: Request): string | undefined => {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? match[1] : undefined;
};

/** `_t_` as unix seconds, when it is an integer (BillRun sends `(string) time()`). */
function timestampOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^[0-9]{1,12}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * A BillRun call is authentic with a valid Bearer token from /oauth2/token, or a valid `_sig_`
 * whose `_t_` (when present) is inside the freshness window. A missing `_t_` is left to the
 * "Invalid arguments" check that comes later in BillRun's order.
 */
export function authenticate(
  req: Request,
  config: Config,
  tree: (JsonNode & { kind: 'object' }) | undefined,
  values: Record<string, unknown> | undefined,
  now: Date,
): AuthResult {
  const token = bearerToken(req);
  if (token && verifyToken(config, token, now)) return { ok: true, via: 'bearer' };
  if (!tree || !values) return { ok: false, reason: token ? 'invalid bearer token' : 'no data and no bearer token' };
  if (!verifySignature(tree, config.billrun.sharedSecrets, now)) return { ok: false, reason: 'bad signature' };

  const maxAge = config.billrun.signatureMaxAgeS;
  if (maxAge > 0 && values._t_ !== undefined && values._t_ !== null) {
    const t = timestampOf(values._t_);
    if (t === undefined) return { ok: false, reason: '_t_ is not a unix timestamp' };
    // A replayed request is refused once it is older than the window; one from the future too.
    if (Math.abs(unixSeconds(now) - t) > maxAge) return { ok: false, reason: 'stale _t_' };
  }
  return { ok: true, via: 'signature' };
}
