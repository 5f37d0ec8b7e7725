// The pace an operator sets live, validated against the group's budget.
import type { NodeGroupConfig } from '../config.js';
import type { ParseResult } from '../input.js';
import { formatDuration, parseDuration } from '../duration.js';
import { HOUR } from './names.js';


/** What an operator can change live (setPace). */
export interface Pace {
  /** Repaves the lane runs at once: 1..group maxUnavailable. */
  concurrency: number;
  /** Least time between one repave finishing (or starting) and the next one starting, ms. */
  pauseBetweenNodes: number;
  /** Overrides the group's maxAge when set (ms). */
  maxAge?: number;
}

export interface PacePatch {
  concurrency?: number;
  pauseBetweenNodes?: string | number;
  maxAge?: string | number;
}

export const defaultPace = (): Pace => ({ concurrency: 1, pauseBetweenNodes: 0 });

/** The result of validating an operator's request (same shape as an input parse). */
export type Checked<T> = ParseResult<T>;

/** Validate a setPace request against the group's budget; the message says what is acceptable. */
export function applyPacePatch(current: Pace, patch: unknown, group: Pick<NodeGroupConfig, 'name' | 'maxUnavailable'>): Checked<Pace> {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return { ok: false, message: 'setPace: expected an object such as {"concurrency": 1, "pauseBetweenNodes": "10m", "maxAge": "7d"}' };
  }
  const p = patch as Record<string, unknown>;
  const known = ['concurrency', 'pauseBetweenNodes', 'maxAge'];
  const unknown = Object.keys(p).filter((k) => !known.includes(k));
  if (unknown.length) return { ok: false, message: `setPace: unknown field(s) ${unknown.join(', ')}; expected concurrency, pauseBetweenNodes, maxAge` };
  if (Object.keys(p).length === 0) return { ok: false, message: 'setPace: nothing to change; give concurrency, pauseBetweenNodes and/or maxAge' };
  const next: Pace = { ...current };
  if (p.concurrency !== undefined) {
    const c = p.concurrency;
    if (group.maxUnavailable < 1) {
      return { ok: false, message: `concurrency: node group ${group.name} has maxUnavailable 0, so no repave may run at all` };
    }
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > group.maxUnavailable) {
      return {
        ok: false,
        message: `concurrency: expected an integer from 1 to ${group.maxUnavailable} (node group ${group.name}'s maxUnavailable), got ${JSON.stringify(c)}`,
      };
    }
    next.concurrency = c;
  }
  if (p.pauseBetweenNodes !== undefined) {
    const ms = durationOf(p.pauseBetweenNodes);
    if (ms === undefined || ms > 24 * HOUR) {
      return { ok: false, message: `pauseBetweenNodes: expected a duration from 0s to 24h such as "10m", got ${JSON.stringify(p.pauseBetweenNodes)}` };
    }
    next.pauseBetweenNodes = ms;
  }
  if (p.maxAge !== undefined) {
    const ms = durationOf(p.maxAge);
    if (ms === undefined || ms < HOUR || ms > 365 * 24 * HOUR) {
      return { ok: false, message: `maxAge: expected a duration from 1h to 365d such as "7d", got ${JSON.stringify(p.maxAge)}` };
    }
    next.maxAge = ms;
  }
  return { ok: true, value: next };
}

function durationOf(v: unknown): number | undefined {
  return typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
}

export function describePace(p: Pace): string {
  return `concurrency ${p.concurrency}, pause ${formatDuration(p.pauseBetweenNodes)}${p.maxAge !== undefined ? `, maxAge ${formatDuration(p.maxAge)}` : ''}`;
}
