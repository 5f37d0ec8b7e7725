// What the lane reports (its state and progress queries) and the history it keeps.
import type { EndPhase, RunbookProgress } from '../runbook.js';
import type { BreakerState } from './breaker.js';
import type { HistoryEntry, LaneCarry } from './input.js';
import type { LaneHold } from './names.js';
import type { InFlightRepave, UnhealthyReport } from './observed.js';
import type { Pace } from './pace.js';
import type { AboveSize, Budget, Candidate } from './plan.js';
import type { KeyringRequirements } from './keyrings.js';
import type { DesiredImage } from './reasons.js';

export type LanePhase = 'starting' | 'sweeping' | 'idle' | 'repaving' | 'paused' | 'held' | 'circuit-open' | 'blocked' | 'continuing';

/** What the lane's progress query (the runbook frame's) answers; the `state` query has the whole picture. */
/** What the lane is doing between sweeps, most pressing first: the phase it shows. */
export function lanePhase(s: { continuing: boolean; inFlight: number; breakerOpen: boolean; paused: boolean; held: boolean; queued: number; startable: number }): LanePhase {
  if (s.continuing && s.inFlight === 0) return 'continuing';
  if (s.breakerOpen) return 'circuit-open';
  if (s.paused) return 'paused';
  if (s.held) return 'held';
  if (s.inFlight > 0) return 'repaving';
  if (s.queued > 0 && s.startable === 0) return 'blocked';
  return 'idle';
}

export interface LaneProgress extends RunbookProgress<LanePhase | EndPhase> {
  group: string;
  inFlight: number;
  queued: number;
  sweeps: number;
}

export interface LaneState {
  cluster: string;
  group: string;
  phase: LanePhase;
  paused: boolean;
  pace: Pace;
  breaker: BreakerState;
  queue: { node: string; kind: Candidate['kind']; reasons: string[]; faultDomain?: string; retire?: boolean }[];
  inFlight: InFlightRepave[];
  skipped: { node: string; why: string }[];
  /** The group has more nodes than its size, and what the lane does about it. */
  aboveSize?: AboveSize;
  reports: UnhealthyReport[];
  holds: LaneHold[];
  history: HistoryEntry[];
  lastSweep?: { at: string; nodes: number; aged: number; unhealthy: number; drifted?: number; keyring?: number; budget: Budget; error?: string };
  /** The image the group's nodes should run (lanes from before desired images: unset). */
  desiredImage?: DesiredImage;
  /** The keyring versions rotations require of the nodes (none: unset). */
  keyrings?: KeyringRequirements;
  /** Each node's image as of the last sweep, name → image OCID (unknown: absent). */
  images?: Record<string, string>;
  /** The group's maintenance windows as of the last sweep (none configured: unset). ISO times. */
  window?: { open: boolean; closesAt?: string; opensAt?: string };
  nextSweepAt?: string;
  nextStartAt?: string;
  sweeps: number;
  runs: number;
  totals: LaneCarry['totals'];
}

export const HISTORY_LIMIT = 100;
export const HISTORY_CARRIED = 30;

export function pushHistory(history: HistoryEntry[], e: HistoryEntry, limit = HISTORY_LIMIT): HistoryEntry[] {
  const next = [...history, e];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** Failure backoff: base, 2x, 4x ... at most 16x. */
export function backoffAfter(failures: number, baseMs: number): number {
  return baseMs * 2 ** Math.min(4, Math.max(0, failures - 1));
}
