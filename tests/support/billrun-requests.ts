import { signData } from '../../app/billrun';
import { TEST_SECRET } from './test-context';

let nextAid = Math.floor(Math.random() * 1e6) * 1000;

/** A fresh account id per test, so tests in one file never share rows. */
export const newAid = (): number => ++nextAid;

export interface GetRequestFields {
  [key: string]: unknown;
}

/** Builder for getRequest's `data` fields: an iframe request with pages, overridable per test. */
export function getRequestFields(overrides: GetRequestFields = {}, now: Date = new Date()): GetRequestFields {
  const fields: GetRequestFields = {
    iframe: true,
    aid: newAid(),
    name: 'StripeCheckout',
    type: 'account',
    _t_: String(Math.floor(now.getTime() / 1000)),
    ok_page: 'https://portal.example/billing/ok',
    fail_page: 'https://portal.example/billing/fail',
    ...overrides,
  };
  for (const [k, v] of Object.entries(fields)) if (v === undefined) delete fields[k];
  return fields;
}

/** The `data` parameter as BillRun sends it: JSON text with `_sig_` last. */
export const signed = (fields: GetRequestFields, secret: string = TEST_SECRET): string => signData(JSON.stringify(fields), secret);
