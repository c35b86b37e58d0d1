import type { Knex } from 'knex';
import { toDate, toSafeInt } from '../db';

/**
 * BillRun's half of a card setup: the txId its customer carries back to OkPage / failPage (its
 * creditproxy row), the pages and flow getRequest asked for, and the browser a redirect flow is
 * bound to. The card setup itself (customer, Stripe objects, state, card) is the payments core's.
 */
export type HandshakeFlow = 'iframe' | 'redirect' | 'custom';

export interface Handshake {
  txId: string;
  cardSetupId: number;
  instanceName: string;
  flow: HandshakeFlow;
  requestT: string;
  okPage: string | null;
  failPage: string | null;
  returnUrl: string;
  /** Hash of the browser session that started a redirect flow. */
  browserBinding: string | null;
  createdAt: Date;
}

interface HandshakeRow {
  tx_id: string;
  card_setup_id: unknown;
  instance_name: string;
  flow: HandshakeFlow;
  request_t: string;
  ok_page: string | null;
  fail_page: string | null;
  return_url: string;
  browser_binding: string | null;
  created_at: Date | string;
}

const toHandshake = (row: HandshakeRow): Handshake => ({
  txId: row.tx_id,
  cardSetupId: toSafeInt(row.card_setup_id),
  instanceName: row.instance_name,
  flow: row.flow,
  requestT: row.request_t,
  okPage: row.ok_page,
  failPage: row.fail_page,
  returnUrl: row.return_url,
  browserBinding: row.browser_binding,
  createdAt: toDate(row.created_at),
});

/** A handshake's columns but the card setup it names. */
const handshakeColumns = (h: Omit<Handshake, 'cardSetupId'>) => ({
  tx_id: h.txId,
  instance_name: h.instanceName,
  flow: h.flow,
  request_t: h.requestT,
  ok_page: h.okPage,
  fail_page: h.failPage,
  return_url: h.returnUrl,
  browser_binding: h.browserBinding,
  created_at: h.createdAt,
});

/** The handshake's row as the card setup's attached row (recorded in the same statement as the setup). */
export const handshakeAttachment = (h: Omit<Handshake, 'cardSetupId'>) => ({
  table: 'handshakes',
  columns: handshakeColumns(h),
  setupIdColumn: 'card_setup_id',
});

/** A handshake row read as JSON (beside its card setup): the same fields, timestamps as text. */
export const handshakeOfRow = (row: Record<string, unknown>): Handshake => toHandshake(row as unknown as HandshakeRow);

/** How the core finds a handshake's card setup together with it. */
export const handshakeLookup = (txId: string) => ({ table: 'handshakes', keyColumn: 'tx_id', key: txId, setupIdColumn: 'card_setup_id' });

export async function findHandshake(db: Knex, txId: string): Promise<Handshake | undefined> {
  const row = await db<HandshakeRow>('handshakes').where({ tx_id: txId }).first();
  return row ? toHandshake(row) : undefined;
}
