import { readFileSync } from 'node:fs';
import { findCycles, readGraph } from './module-graph';

/** The layout's rules, checked on the source: a rule only a reviewer remembers does not hold. */

const graph = readGraph('app');

/** BillRun's vocabulary: its name, its txId and handshakes, its gateway and instance names, its pages, its account id and card shape. */
const BILLRUN_WORDS =
  /billrun|\btxid\b|tx_id|handshake|gateway_name|instance_name|card_expiration|42030|StripeCheckout|ok_?page|fail_?page|request_t\b|\baid\b/i;

describe('architecture of app/', () => {
  test('when any file outside app/stripe/ is read, then none imports the Stripe SDK', () => {
    const offenders = [...graph.edges].filter(
      ([file, e]) => !file.startsWith('app/stripe/') && e.packages.some((p) => p === 'stripe' || p.startsWith('stripe/')),
    );
    expect(offenders.map(([file]) => file)).toEqual([]);
  });

  test('when app/payments/ and app/stripe/ are read, then they mention no BillRun word (its handshakes, names and shapes live in app/billrun/)', () => {
    const files = [...graph.edges.keys()].filter((f) => f.startsWith('app/payments/') || f.startsWith('app/stripe/'));
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ file, line: i + 1, text: line.trim() }))
        .filter((l) => BILLRUN_WORDS.test(l.text)),
    );
    expect(offenders).toEqual([]);
  });

  test('when a module outside app/payments/ imports the core, then only through its use cases (app/payments/index.ts)', () => {
    const offenders = [...graph.edges].flatMap(([file, e]) =>
      file.startsWith('app/payments/')
        ? []
        : e.files.filter((f) => f.startsWith('app/payments/') && f !== 'app/payments/index.ts').map((f) => `${file} -> ${f}`),
    );
    expect(offenders).toEqual([]);
  });

  test('when the import graph of app/ is walked, then it has no cycle (state at the bottom, use cases on top)', () => {
    expect(findCycles(graph, 'app')).toEqual([]);
  });

  test('when the import graph is walked, then the checker itself sees the edges it should (app.ts imports the BillRun door)', () => {
    expect(graph.edges.get('app/app.ts')?.files).toContain('app/billrun/index.ts');
    expect(graph.edges.get('app/billrun/billrun-service.ts')?.files).toContain('app/payments/index.ts');
    for (const word of ['BillRun', 'txId', 'tx_id', 'handshakes', 'OkPage', 'fail_page', 'the aid', 'StripeCheckout', '"42030"'])
      expect(BILLRUN_WORDS.test(word)).toBe(true);
    for (const word of ['card setup', 'paid', 'aide', 'customer_ref', 'payment_intent']) expect(BILLRUN_WORDS.test(word)).toBe(false);
    expect(
      findCycles(
        {
          edges: new Map([
            ['app/a.ts', { files: ['app/b.ts'], packages: [] }],
            ['app/b.ts', { files: ['app/a.ts'], packages: [] }],
          ]),
        },
        'app',
      ),
    ).toEqual([['app/a.ts', 'app/b.ts']]);
  });
});
