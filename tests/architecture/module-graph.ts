import fs from 'node:fs';
import path from 'node:path';

/** The import graph of a source folder, read from the files' import/export statements. */
export interface ModuleGraph {
  /** file (relative to the repository root) -> the files it imports, and the packages. */
  edges: Map<string, { files: string[]; packages: string[] }>;
}

const root = path.resolve(__dirname, '../..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

function resolveFile(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(path.join(root, from)), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate)) return path.relative(root, candidate);
  }
  return undefined;
}

function listTs(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

export function readGraph(dir: string): ModuleGraph {
  const edges = new Map<string, { files: string[]; packages: string[] }>();
  for (const file of listTs(dir)) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const files: string[] = [];
    const packages: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) {
        const target = resolveFile(file, spec);
        if (target) files.push(target);
      } else {
        packages.push(spec);
      }
    }
    edges.set(file, { files, packages });
  }
  return { edges };
}

/** Every cycle among files under `dir` (each reported once, from its smallest file). */
export function findCycles(graph: ModuleGraph, dir: string): string[][] {
  const cycles = new Map<string, string[]>();
  const inside = (f: string) => f.startsWith(`${dir}/`);
  const visit = (file: string, stack: string[]) => {
    const at = stack.indexOf(file);
    if (at >= 0) {
      const cycle = stack.slice(at);
      const start = cycle.indexOf([...cycle].sort()[0]);
      const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
      cycles.set(canonical.join(' -> '), canonical);
      return;
    }
    if (stack.length > 40) return;
    for (const next of graph.edges.get(file)?.files ?? []) if (inside(next)) visit(next, [...stack, file]);
  };
  for (const file of graph.edges.keys()) if (inside(file)) visit(file, []);
  return [...cycles.values()];
}
