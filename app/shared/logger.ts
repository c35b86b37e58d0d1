import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * Keys whose values never reach a log line, wherever they sit in a logged object: card data,
 * secrets, BillRun's signature and raw `data` parameter (which carries `_sig_`).
 */
const REDACTED_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'secret',
  'client_secret',
  'secretKey',
  'secret_key',
  'apiKey',
  'stripe-signature',
  'number',
  'card_number',
  'account_number',
  'cvc',
  'cvn',
  'cvv',
  '_sig_',
  'data',
  'access_token',
];

const REDACTED = new Set(REDACTED_KEYS.map((k) => k.toLowerCase()));
const CENSOR = '[redacted]';
/** Deeper than any object the service logs; what lies below is cut rather than walked. */
const MAX_DEPTH = 8;

const isWalkable = (value: object): boolean => {
  if (Array.isArray(value)) return true;
  if (ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set || value instanceof Date) return false;
  return true;
};

/**
 * `value` with every key of REDACTED (any case, at any depth) censored, in one pass. The caller's
 * objects are never changed: an object is copied only on the way to a key that is censored, so a
 * line with nothing to hide costs one walk and no copy. Cycles and what lies deeper than
 * MAX_DEPTH are cut (`[cycle]`, `[too deep]`).
 */
export function scrub(value: unknown, depth = 0, ancestors: object[] = []): unknown {
  if (typeof value !== 'object' || value === null || !isWalkable(value)) return value;
  if (ancestors.includes(value)) return '[cycle]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  ancestors.push(value);
  let result: unknown;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const clean = scrub(item, depth + 1, ancestors);
      if (clean !== item) (copy ??= value.slice())[i] = clean;
    }
    result = copy ?? value;
  } else {
    result = scrubFields(value as Record<string, unknown>, depth, ancestors);
  }
  ancestors.pop();
  return result;
}

/** `source`'s fields scrubbed (copied only if one changes); a key in `leave` is left as it is. */
function scrubFields(source: Record<string, unknown>, depth: number, ancestors: object[], leave?: string): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    if (key === leave) continue;
    const item = source[key];
    const clean = REDACTED.has(key.toLowerCase()) ? CENSOR : scrub(item, depth + 1, ancestors);
    if (clean !== item) (copy ??= { ...source })[key] = clean;
  }
  return copy ?? source;
}

/** The logged object, scrubbed; `err` is left to its serializer, which scrubs what it makes. */
const scrubLogged = (obj: Record<string, unknown>): Record<string, unknown> => scrubFields(obj, 0, [], 'err');

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const root = pino(
    {
      level,
      base: { service: 'payment-gateway' },
      // One walk per line (pino's own redaction runs a compiled path per key and depth: 57 of them).
      formatters: { log: scrubLogged },
      serializers: { err: (err: unknown) => scrub(pino.stdSerializers.err(err as Error)) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
  // A child's bindings are written once, when it is made; pino applies no formatter to them, so
  // they are scrubbed here. Children inherit this `child` (pino makes them with Object.create).
  type ChildOf = (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  const child = root.child as unknown as ChildOf; // pino's own, called on whichever logger is the parent
  const scrubbedChild: ChildOf = function (bindings, options) {
    return child.call(this, scrubLogged(bindings), options);
  };
  root.child = scrubbedChild as unknown as typeof root.child;
  // Bindings set later are scrubbed the same way (children inherit this too).
  const setBindings = root.setBindings as unknown as (this: Logger, bindings: pino.Bindings) => void;
  root.setBindings = function (this: Logger, bindings: pino.Bindings) {
    setBindings.call(this, scrubLogged(bindings));
  };
  return root;
}

/** Lines for a person at a terminal (`LOG_FORMAT=pretty`): the same fields, redacted the same way. */
export const prettyDestination = (): DestinationStream =>
  pretty({ colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
