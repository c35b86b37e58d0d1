import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { signed } from './billrun-requests';
import type { TestContext } from './test-context';

export const newReference = (): string => `bill-${randomUUID()}`;

/** BillRun's pay call: signed `data` with aid, amount, currency, reference. */
export function pay(ctx: TestContext, fields: Record<string, unknown>) {
  const data = signed({ _t_: String(Math.floor(ctx.clock.now().getTime() / 1000)), reference: newReference(), currency: 'USD', ...fields });
  return request(ctx.app).post('/paymentgateways/pay').type('form').send({ data });
}

/** BillRun's credit call: signed `data` with transaction_id, optional amount, reference. */
export function credit(ctx: TestContext, fields: Record<string, unknown>) {
  const data = signed({ _t_: String(Math.floor(ctx.clock.now().getTime() / 1000)), reference: newReference(), ...fields });
  return request(ctx.app).post('/paymentgateways/credit').type('form').send({ data });
}
