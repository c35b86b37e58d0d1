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

const redactPaths = REDACTED_KEYS.flatMap((k) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
  const dot = key.startsWith('[') ? '' : '.';
  return [key, `*${dot}${key}`, `*.*${dot}${key}`];
});

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'payment-gateway' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** Lines for a person at a terminal (`LOG_FORMAT=pretty`): the same fields, redacted the same way. */
export const prettyDestination = (): DestinationStream =>
  pretty({ colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
