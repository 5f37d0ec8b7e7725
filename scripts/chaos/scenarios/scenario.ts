// What each runbook's chaos scenario provides, and how a run awaits its workflows through restarts.
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { formatFailure } from '../../../src/cli/progress.js';
import { eventually } from '../../../test/helpers/stack.js';
import type { Bed } from '../bed.js';
import type { RunOutcome } from '../invariants.js';
import type { Random } from '../random.js';
import type { WatchPlan } from '../watcher.js';

export interface Scenario {
  runbook: 'repave' | 'lane' | 'node-group' | 'decommission';
  /** How long one run may take, disruptions included. */
  deadlineMs: number;
  /** Sim timings for its fleet. */
  fleet: { bootDelayMs: number; nodeReadyDelayMs: number };
  /** Set the fleet up (before faults are injected). */
  prepare(bed: Bed): Promise<void>;
  /** What the watcher holds the run to, and the group sizes at its end. */
  plan(bed: Bed): WatchPlan & { sizes: Record<string, number> };
  /** Start the runbook and await its end (by `deadline`, epoch ms). */
  run(bed: Bed, random: Random, deadline: number): Promise<RunOutcome>;
}

const SEEDED_GROUPS = ['general', 'batch'] as const;

/** Floors (size − maxUnavailable) and sizes of the seeded groups, from the fleet file. */
export function seededGroups(bed: Bed): { floors: Record<string, number>; sizes: Record<string, number> } {
  const groups = bed.stack.fleet.clusters[0]!.nodeGroups.filter((g) => (SEEDED_GROUPS as readonly string[]).includes(g.name));
  return {
    floors: Object.fromEntries(groups.map((g) => [g.name, g.size - g.maxUnavailable])),
    sizes: Object.fromEntries(groups.map((g) => [g.name, g.size])),
  };
}

/**
 * Wait (by `deadline`) for a workflow to close, through worker kills and server restarts (errors are retried on
 * the current client), and say how it ended.
 */
export async function awaitWorkflow(client: () => Client, workflowId: string, deadline: number): Promise<RunOutcome> {
  const waitMs = Math.max(0, deadline - Date.now());
  const status = await eventually(
    `${workflowId} to close`,
    async () => {
      const s = (await client().workflow.getHandle(workflowId).describe()).status.name;
      return s !== 'RUNNING' && s;
    },
    waitMs,
    500,
  ).catch((e: unknown) => ({ timedOut: (e as Error).message }));
  if (typeof status !== 'string') return { status: 'timed-out', waited: status.timedOut };
  if (status === 'COMPLETED') return { status: 'completed' };
  try {
    await client().workflow.getHandle(workflowId).result();
    return { status: 'failed', message: `closed as ${status}` };
  } catch (e) {
    const type = e instanceof WorkflowFailedError ? (e.cause as { type?: string } | undefined)?.type : undefined;
    return { status: 'failed', ...(type ? { type } : {}), message: `${status}: ${formatFailure(e)}` };
  }
}
