// The project's layout, as the README's "Layout" section states it: src/ holds only what the worker and the
// CLI ship and never reaches into the test beds or the tests; workflow code (and the pure code it imports)
// uses nothing Node-side; the test beds depend on each other one way only (no import cycles anywhere).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/home.js';

const root = projectRoot();

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/**
 * Every module specifier of a file: static imports and re-exports, `import('...')` and `import('...').T` types;
 * with `runtime`, only what is loaded at run time (`import type` / `export type` are erased).
 */
function specifiers(file: string, { runtime = false } = {}): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b([^'";]*?)\bfrom\s*['"]([^'"]+)['"]/gm)) {
    if (!(runtime && /^\s*type\b/.test(m[1]!))) found.push(m[2]!);
  }
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

/** A relative specifier as a project file (`./x.js` → `<dir>/x.ts`); undefined for packages and builtins. */
function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return resolve(dirname(from), spec).replace(/\.js$/, '.ts');
}

const rel = (p: string) => relative(root, p).split(sep).join('/');
const srcFiles = tsFiles(join(root, 'src'));
const testbedFiles = tsFiles(join(root, 'testbeds'));

describe('layout', () => {
  it('nothing in src/ imports the test beds or the tests', () => {
    const offending: string[] = [];
    for (const f of srcFiles) {
      for (const s of specifiers(f)) {
        const target = resolveLocal(f, s);
        if (target === undefined) continue;
        const r = rel(target);
        if (!r.startsWith('src/')) offending.push(`${rel(f)} imports ${s} (${r})`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('src/workflows, and all the project code it reaches, imports nothing Node-side', () => {
    // luxon: pure JavaScript over Intl (maintenance windows' time zones), deterministic for a given instant.
    const allowedPackages = new Set(['@temporalio/workflow', '@temporalio/common', 'zod', 'luxon']);
    const offending: string[] = [];
    const seen = new Set<string>();
    const queue = tsFiles(join(root, 'src', 'workflows'));
    while (queue.length > 0) {
      const f = queue.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const s of specifiers(f)) {
        const target = resolveLocal(f, s);
        if (target !== undefined) queue.push(target);
        else if (!allowedPackages.has(s)) offending.push(`${rel(f)} imports ${s}`);
      }
    }
    expect(seen.size).toBeGreaterThan(5);
    expect(offending).toEqual([]);
  });

  it('the test beds depend one way: control-plane on the sim, never the sim on control-plane or on testbeds/index.ts', () => {
    const offending: string[] = [];
    for (const f of testbedFiles) {
      const from = rel(f);
      for (const s of specifiers(f)) {
        const target = resolveLocal(f, s);
        if (target === undefined) continue;
        const to = rel(target);
        if (from.startsWith('testbeds/sim/') && (to.startsWith('testbeds/control-plane/') || to === 'testbeds/index.ts' || to === 'testbeds/start.ts')) offending.push(`${from} imports ${to}`);
        if (from.startsWith('testbeds/control-plane/') && (to === 'testbeds/index.ts' || to === 'testbeds/start.ts')) offending.push(`${from} imports ${to}`);
        if (from.startsWith('testbeds/temporal/') && to.startsWith('testbeds/') && !to.startsWith('testbeds/temporal/')) offending.push(`${from} imports ${to}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('src/ and testbeds/ have no import cycles at run time (dynamic imports included, type-only imports not)', () => {
    const graph = new Map<string, string[]>();
    for (const f of [...srcFiles, ...testbedFiles]) {
      graph.set(
        rel(f),
        specifiers(f, { runtime: true })
          .map((s) => resolveLocal(f, s))
          .filter((t): t is string => t !== undefined)
          .map(rel),
      );
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (n: string) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(n)), n].join(' → '));
        return;
      }
      state.set(n, 'open');
      stack.push(n);
      for (const m of graph.get(n) ?? []) visit(m);
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of graph.keys()) visit(n);
    expect(cycles).toEqual([]);
  });

  it('the worker image builds from src (and the bundling script) only, keeps dist, and the build context leaves out the test beds', () => {
    const copied = [...readFileSync(join(root, 'Dockerfile'), 'utf8').matchAll(/^COPY\s+(.+)$/gm)].map((m) => m[1]!.trim());
    expect(copied).toEqual([
      'package.json package-lock.json ./',
      'tsconfig.json tsconfig.build.json ./',
      'src ./src',
      'scripts/build ./scripts/build',
      'package.json package-lock.json ./',
      '--from=build /app/dist ./dist',
    ]);
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toContain('!scripts/build');
    for (const entry of ['testbeds', 'test', 'scripts']) expect(ignore).toContain(entry);
  });
});
