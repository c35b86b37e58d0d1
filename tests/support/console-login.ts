import request from 'supertest';
import type { Express } from 'express';
import type { TestContext } from './test-context';
import { saveOperator } from '../../app/console/operators';

export const OPERATOR = { name: 'ops-alice', password: 'correct horse battery staple' };

/** An operator stored as `npm run console -- add-user` stores one. */
export const addOperator = (ctx: TestContext, operator = OPERATOR) => saveOperator(ctx.db, operator.name, operator.password, ctx.clock.now());

/** The hidden CSRF field of a console page. */
export function csrfOf(pageHtml: string): string {
  const found = /name="_csrf" value="([^"]+)"/.exec(pageHtml);
  if (!found) throw new Error('no CSRF field on the page');
  return found[1];
}

/** A browser-like agent (it keeps cookies) logged in to the console; `csrf` is its session's token. */
export async function loggedIn(app: Express, operator = OPERATOR, address = '203.0.113.10') {
  const agent = request.agent(app);
  const form = await agent.get('/console/login').set('X-Forwarded-For', address);
  const res = await agent
    .post('/console/login')
    .set('X-Forwarded-For', address)
    .type('form')
    .send({ _csrf: csrfOf(form.text), username: operator.name, password: operator.password });
  if (res.status !== 303 || res.headers.location !== '/console') throw new Error(`login failed: ${res.status} ${res.text}`);
  const overview = await agent.get('/console');
  return { agent, csrf: csrfOf(overview.text), loginAnswer: res };
}
