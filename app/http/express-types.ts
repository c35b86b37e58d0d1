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
      /** The route as metrics name it, when one pattern serves several named actions (`/paymentgateways/:action`). */
      routeLabel?: string;
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    /** Set when this browser started a BillRun redirect flow (the handshake stores a hash of the session id). */
    billrunBrowser?: boolean;
  }
}

export {};
