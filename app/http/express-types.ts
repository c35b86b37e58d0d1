import type { Logger } from '../shared/logger';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Request id: the caller's X-Request-Id when sane, else a new one. */
      id: string;
      /** A child logger carrying the request id. */
      log: Logger;
      /** The body bytes as received (JSON bodies only): webhook signatures and BillRun's signed JSON need them. */
      rawBody?: Buffer;
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    /** txIds this browser started in BillRun's redirect flow: proof for OkPage that it is the customer's own browser. */
    billrunTxIds?: string[];
  }
}

export {};
