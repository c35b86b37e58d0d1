import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateHost } from './private-address';

/**
 * Where merchant webhooks may go. Outside development a merchant's endpoint must be public: its
 * host is refused when it is a private or loopback address, and when its name resolves to one.
 * The check is made on the very addresses the request connects to (in the socket's lookup), so a
 * name that answers a public address to a first look and a private one later gains nothing.
 */
export interface WebhookTargets {
  refusePrivate: boolean;
  /** How host names are resolved (dns.lookup; tests give names of their own). */
  lookup: LookupFunction;
}

export const systemWebhookTargets = (refusePrivate: boolean): WebhookTargets => ({ refusePrivate, lookup: dns.lookup as LookupFunction });

/** The attempt never left: the endpoint is not one merchants may use (not retried). */
export class RefusedTarget extends Error {}

export interface WebhookAnswer {
  status: number;
}

const guardedLookup =
  (lookup: LookupFunction): LookupFunction =>
  (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, found) => {
      if (err) return callback(err, '', 0);
      const addresses = (Array.isArray(found) ? found : [{ address: found, family: 4 }]) as LookupAddress[];
      const refused = addresses.find((a) => isPrivateHost(a.address));
      if (refused || addresses.length === 0) return callback(new RefusedTarget(`refused: ${hostname} resolves to a private or loopback address`), '', 0);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };

/** Sends one webhook attempt; resolves with the HTTP status, rejects on a network failure, a timeout or a refused target. */
export function sendWebhookRequest(
  targets: WebhookTargets,
  url: URL,
  request: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<WebhookAnswer> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (targets.refusePrivate && isPrivateHost(host)) return Promise.reject(new RefusedTarget('refused: a private or loopback address'));
  const lookup = targets.refusePrivate && !isIP(host) ? guardedLookup(targets.lookup) : targets.lookup;
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: request.method, headers: request.headers, lookup }, (res) => {
      clearTimeout(timer);
      // Only the status matters: the endpoint's body is never read.
      res.destroy();
      resolve({ status: res.statusCode ?? 0 });
    });
    // The whole attempt, however slowly an endpoint drips, ends within the limit.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)), request.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(request.body);
  });
}
