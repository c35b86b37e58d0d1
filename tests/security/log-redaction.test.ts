import { createLogger } from '../../app/shared/logger';

/** The logger's own redaction: what it censors, at what depth, and what it leaves alone. */
function capture(): { lines: () => Record<string, unknown>[]; raw: string[]; log: ReturnType<typeof createLogger> } {
  const raw: string[] = [];
  const log = createLogger('debug', { write: (line: string) => void raw.push(line) });
  return { raw, log, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRET = 'SECRETMARKER-redaction';

describe('log redaction', () => {
  test('when a censored key sits at the top or at any depth, in objects and arrays, then its value is "[redacted]" and nothing else changes', () => {
    const { log, lines, raw } = capture();
    const logged = {
      password: SECRET,
      card: { number: SECRET, exp_month: 12, brand: 'visa' },
      nested: { a: { b: { c: { d: { cvc: SECRET, kept: 'yes' } } } } },
      list: [{ Authorization: SECRET }, 'plain', 7],
      headers: { 'Stripe-Signature': SECRET, 'content-type': 'application/json' },
    };
    log.info(logged, 'hello');
    expect(raw.join('')).not.toContain(SECRET);
    const [line] = lines();
    expect(line).toMatchObject({
      msg: 'hello',
      password: '[redacted]',
      card: { number: '[redacted]', exp_month: 12, brand: 'visa' },
      nested: { a: { b: { c: { d: { cvc: '[redacted]', kept: 'yes' } } } } },
      list: [{ Authorization: '[redacted]' }, 'plain', 7],
      headers: { 'Stripe-Signature': '[redacted]', 'content-type': 'application/json' },
    });
    // The caller's object is untouched.
    expect(logged.card.number).toBe(SECRET);
    expect(logged.list[0]).toEqual({ Authorization: SECRET });
  });

  test('when an error carries a secret in its own properties, then the serialized error keeps type and message and censors the secret', () => {
    const { log, lines, raw } = capture();
    const err = Object.assign(new Error('card declined'), { detail: { secret_key: SECRET, code: 'card_declined' } });
    log.error({ err }, 'failed');
    log.warn(err, 'failed again');
    expect(raw.join('')).not.toContain(SECRET);
    for (const line of lines()) {
      expect(line.err).toMatchObject({ type: 'Error', message: 'card declined', detail: { secret_key: '[redacted]', code: 'card_declined' } });
    }
  });

  test('when a child logger is bound with a secret, then its lines censor it', () => {
    const { log, raw } = capture();
    const child = log.child({ reqId: 'r1', apiKey: SECRET });
    child.info('bound');
    child.child({ eventId: 'e1', secret: SECRET }).info('bound twice');
    expect(raw.join('')).not.toContain(SECRET);
    expect(JSON.parse(raw[0])).toMatchObject({ reqId: 'r1', apiKey: '[redacted]', msg: 'bound' });
    expect(JSON.parse(raw[1])).toMatchObject({ reqId: 'r1', apiKey: '[redacted]', eventId: 'e1', secret: '[redacted]', msg: 'bound twice' });
    child.setBindings({ password: SECRET });
    child.info('bound later');
    expect(raw.join('')).not.toContain(SECRET);
    expect(JSON.parse(raw[2])).toMatchObject({ password: '[redacted]', msg: 'bound later' });
  });

  test('when a logged object is cyclic or deeper than the walk, then the line is still written and holds no secret', () => {
    const { log, raw } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop', secret: SECRET };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { cvv: SECRET };
    for (let i = 0; i < 20; i++) deep = { down: deep };
    log.info({ cyclic, deep }, 'odd shapes');
    expect(raw).toHaveLength(1);
    expect(raw[0]).not.toContain(SECRET);
    expect(JSON.parse(raw[0])).toMatchObject({ cyclic: { name: 'loop', secret: '[redacted]', self: '[cycle]' } });
  });
});
