/**
 * Where itinerant keeps its local state: downloaded tools (Temporal CLI, test
 * server), cached schemas, dev-server databases and logs.
 *
 * `ITINERANT_HOME` overrides the default, `<project root>/.itinerant` (the
 * project root is the nearest directory above this file holding a package.json).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The directory holding itinerant's package.json (found by walking up from this file). */
export function projectRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `itinerant: no package.json found above ${fileURLToPath(import.meta.url)}; set ITINERANT_HOME explicitly`,
      );
    }
    dir = parent;
  }
}

/** `$ITINERANT_HOME` (resolved to an absolute path) or `<project root>/.itinerant`. */
export function itinerantHome(): string {
  const fromEnv = process.env.ITINERANT_HOME;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  return join(projectRoot(), '.itinerant');
}

/** A path inside the itinerant home, e.g. `homePath('logs', 'dev-server.log')`. */
export function homePath(...segments: string[]): string {
  return join(itinerantHome(), ...segments);
}

/** `<home>/tools/...`: locally installed binaries (Temporal CLI, test server). */
export function toolsDir(...segments: string[]): string {
  return homePath('tools', ...segments);
}

/** `<home>/cache/...`: things fetched at install time that can be re-fetched (schemas). */
export function cacheDir(...segments: string[]): string {
  return homePath('cache', ...segments);
}

/** `<home>/logs/...`: server and tool logs. */
export function logsDir(...segments: string[]): string {
  return homePath('logs', ...segments);
}

/** `<home>/data/...`: persistent local state (e.g. the dev server's sqlite file). */
export function dataDir(...segments: string[]): string {
  return homePath('data', ...segments);
}

/** `mkdir -p` that returns its argument, for `ensureDir(logsDir())`. */
export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
