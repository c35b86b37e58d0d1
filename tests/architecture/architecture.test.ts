import { findCycles, readGraph } from './module-graph';

/** The layout's rules, checked on the source: a rule only a reviewer remembers does not hold. */

const graph = readGraph('app');

describe('architecture of app/', () => {
  test('when any file outside app/stripe/ is read, then none imports the Stripe SDK', () => {
    const offenders = [...graph.edges].filter(
      ([file, e]) => !file.startsWith('app/stripe/') && e.packages.some((p) => p === 'stripe' || p.startsWith('stripe/')),
    );
    expect(offenders.map(([file]) => file)).toEqual([]);
  });

  test('when the import graph of app/ is walked, then it has no cycle (state at the bottom, use cases on top)', () => {
    expect(findCycles(graph, 'app')).toEqual([]);
  });

  test('when the import graph is walked, then the checker itself sees the edges it should (app.ts imports the BillRun door)', () => {
    expect(graph.edges.get('app/app.ts')?.files).toContain('app/billrun/index.ts');
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
