// What workflows need of the fleet configuration besides its types, without its schemas: a workflow bundle
// evaluates every module it imports again for each workflow it starts, and building config.ts's zod schemas was
// the largest part of starting a repaveNode run (a worker profile at 1,000 runs: npm run bench, concurrency).
import { z } from 'zod';
import type { NodeGroupConfig } from './config.js';

/** A count or a percentage of the group's size ("25%"). */
export const countOrPercent = z.union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/, 'expected an integer or a percentage such as "25%"')]);

/** A count or a percentage of a size as a node count: a count as is; a percentage rounded down, but at least 1 above 0%. */
export function nodeCountOf(v: number | string, size: number): number {
  if (typeof v === 'number') return v;
  const pct = Number(v.slice(0, -1));
  return pct <= 0 ? 0 : Math.max(1, Math.floor((size * pct) / 100));
}

/** The ceiling of a scale: maxSize, or twice the configured size. */
export function maxSizeOf(group: Pick<NodeGroupConfig, 'size' | 'maxSize'>): number {
  return group.maxSize ?? Math.max(1, 2 * group.size);
}

/** Fewest Ready nodes a group may have while a runbook works on it. */
export function minReadyOf(group: NodeGroupConfig): number {
  return group.minReady ?? Math.max(0, group.size - group.maxUnavailable);
}

/** Render zod issues as "field.path: message" lines. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`).join('; ');
}
