import { randomInt } from 'node:crypto';

/**
 * BillRun's txId format (19 digits) with every digit from the CSPRNG: the txId is the only
 * capability OkPage asks for, so it must not be guessable (BillRun mixes in 14 digits of time).
 */
export function newTxId(): string {
  let id = '';
  for (let i = 0; i < 19; i++) id += String(randomInt(10));
  return id;
}

export const isTxId = (v: unknown): v is string => typeof v === 'string' && /^[0-9]{19}$/.test(v);
