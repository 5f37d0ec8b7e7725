// The lane's input, and the state it hands to its next run (continue-as-new).
import { describeIssues } from '../group-size.js';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../duration.js';
import type { BreakerState } from './breaker.js';
import type { LaneHold } from './names.js';
import type { Backoff } from './machines.js';
import type { UnhealthyReport } from './observed.js';
import type { KeyringRequirements } from './keyrings.js';
import type { DesiredImage } from './reasons.js';
import type { Checked, Pace } from './pace.js';
import { HOUR, MINUTE } from './names.js';


const name = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS label');
const dur = (minMs: number, maxMs: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `expected a duration between ${formatDuration(minMs)} and ${formatDuration(maxMs)}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

export interface HistoryEntry {
  at: string;
  node: string;
  outcome: 'replaced' | 'retired' | 'failed' | 'refused' | 'skipped' | 'circuit-open' | 'circuit-closed' | 'pace' | 'paused' | 'resumed' | 'held' | 'released' | 'image' | 'keyring';
  reason: string;
  replacement?: string;
  detail?: string;
  /** The machine (machineOf) the entry is about, when it is about one. */
  machine?: string;
}

/** State a lane hands to its next run (continue-as-new). */
export interface LaneCarry {
  pace: Pace;
  paused: boolean;
  reports: UnhealthyReport[];
  breaker: BreakerState;
  history: HistoryEntry[];
  /** Failure backoff per machine. */
  backoffs?: Backoff[];
  /** What lanes carried before backoffs were kept per machine: by node name (read on load, see carriedBackoffs). */
  failures?: Record<string, { count: number; notBefore: number }>;
  runs: number;
  totals: { started: number; replaced: number; failed: number };
  /** Last repave start or finish (epoch ms), for the pace across runs. */
  lastActivityAt?: number;
  holds?: LaneHold[];
  /** The group's desired image, and the configured image it was resolved from (JSON) when not pinned. */
  desiredImage?: DesiredImage;
  desiredImageOf?: string;
  /** What rotations require of the nodes; unset in runs from before. */
  keyrings?: KeyringRequirements;
}

export const repaverLaneInputSchema = z.strictObject({
  cluster: name,
  group: name,
  /** Initial pace (setPace changes it live; a carried pace wins). */
  pace: z
    .strictObject({
      concurrency: z.number().int().min(1).optional(),
      pauseBetweenNodes: dur(0, 24 * HOUR).optional(),
      maxAge: dur(HOUR, 365 * 24 * HOUR).optional(),
    })
    .optional(),
  /** Passed to each repaveNode run. */
  readyTimeout: z.union([z.string(), z.number()]).optional(),
  drainTimeout: z.union([z.string(), z.number()]).optional(),
  /** First wait before a node whose repave failed is tried again (doubles per failure, at most 16x). */
  failureBackoff: dur(0, 24 * HOUR).default(10 * MINUTE),
  /** Overrides the group's sweepInterval for the lane's own timer. */
  sweepInterval: dur(1000, 24 * HOUR).optional(),
  /** Continue-as-new after this many sweeps (or earlier when Temporal suggests it), at the first sweep with no repave in flight. */
  sweepsPerRun: z.number().int().min(1).max(10_000).default(250),
  /** Carried over by continue-as-new; not for operators. */
  carry: z.custom<LaneCarry>((v) => v === undefined || (typeof v === 'object' && v !== null)).optional(),
});

export type RepaverLaneInput = z.input<typeof repaverLaneInputSchema>;
/** Lane input besides its target: what a Schedule or a reporter passes when it starts the lane. */
export type LaneOptions = Omit<RepaverLaneInput, 'cluster' | 'group' | 'carry'>;

/** Input of the short sweepNodeGroup workflow a repaver Schedule starts. */
export interface SweepNodeGroupInput {
  cluster: string;
  group: string;
  lane?: LaneOptions;
}
export type RepaverLaneRequest = z.output<typeof repaverLaneInputSchema>;

export function parseRepaverLaneInput(input: unknown): Checked<RepaverLaneRequest> {
  if (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, message: 'input: expected a JSON object such as {"cluster": "sim-1", "group": "general"}' };
  }
  const r = repaverLaneInputSchema.safeParse(input);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: describeIssues(r.error) };
}
