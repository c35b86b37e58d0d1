import { spawnSync } from 'node:child_process';
import type { Express } from 'express';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import request from 'supertest';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  text: string;
  /** Every sample line, histogram buckets, sums and counts included. */
  samples: Sample[];
  /** The families as parse-prometheus-text-format reads them (name, help, type). */
  families: ReturnType<typeof parsePrometheusTextFormat>;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
const unescape = (v: string): string => v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));

/**
 * Reads the sample lines. parse-prometheus-text-format is the parser of record (it throws on a
 * bad line and names each family's type), but it folds a labelled histogram's series into one;
 * this reader keeps every series and is checked against the parser for counters and gauges.
 */
function readSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const m = SAMPLE_LINE.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      const text = m[2] ?? '';
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < text.length) {
        const l = LABEL.exec(text);
        if (!l) throw new Error(`labels not read to the end: ${line}`);
        labels[l[1]] = unescape(l[2]);
      }
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

export function readScrape(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const samples = readSamples(text);
  for (const family of families.filter((f) => f.type === 'COUNTER' || f.type === 'GAUGE')) {
    const mine = samples.filter((s) => s.name === family.name);
    const theirs = family.metrics.map((m) => ({ name: family.name, labels: m.labels ?? {}, value: Number(m.value) }));
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) throw new Error(`the sample reader and the parser disagree on ${family.name}`);
  }
  return { text, samples, families };
}

/** GET /metrics through HTTP, read. */
export async function scrape(app: Express, token?: string): Promise<Scrape> {
  const req = request(app).get('/metrics');
  const res = await (token ? req.set('Authorization', `Bearer ${token}`) : req);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return readScrape(res.text);
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function valueOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return scrape.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/** How much a sample moved between two scrapes. */
export const moved = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number =>
  valueOf(after, name, labels) - valueOf(before, name, labels);

/**
 * `promtool check metrics` on the text: its problems, or why it could not run. prom-client's own
 * process gauges named `nodejs_active_*_total` are reported by promtool's naming lint; they are
 * prom-client's names, so only they are let through.
 */
export function promtoolProblems(text: string): { skipped: string } | { problems: string[] } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) return { skipped: `promtool is not installed (${(run.error as NodeJS.ErrnoException).code}); apt-get install prometheus provides it` };
  const lines = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l.trim() !== '');
  if (run.status === 0) return { problems: [] };
  // Exit 3: lint findings only; anything else (1: a parse error) is a problem as it stands.
  if (run.status !== 3) return { problems: lines.length > 0 ? lines : [`promtool exited ${run.status}`] };
  return { problems: lines.filter((l) => !/^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/.test(l)) };
}
