// Repaving through the repaver lanes, as a rollout does: each group's lane gets an image pinned (setDesiredImage,
// every node on another image drifted) and repaves its group within the budget; what their histories cost.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FleetConfig } from '../src/core/config.js';
import { repaverLaneWorkflowId, TASK_QUEUE } from '../src/core/ids.js';
import type { LaneState } from '../src/core/lane/index.js';
import { ClientRegistry } from '../src/activities/clients.js';
import { ociActivities } from '../src/activities/oci.js';
import { laneStateQuery, repaverLane, setDesiredImageSignal, sweepNowSignal } from '../src/workflows/repaver-lane.js';
import type { RepaverLaneInput } from '../src/core/lane/index.js';
import { GiveUp, poll } from '../test/helpers/wait.js';

/** The newest image on the group's channel (the nodes were seeded on an older one): what a rollout would pin. */
export async function newestChannelImage(fleet: FleetConfig, group: string): Promise<string> {
  const cluster = fleet.clusters[0]!;
  const image = cluster.nodeGroups.find((g) => g.name === group)!.image;
  return (await ociActivities({ clients: new ClientRegistry(fleet) }).resolveImage({ cluster: cluster.name, compartmentId: cluster.compartmentId, image })).imageId;
}

export type LaneOptions = Omit<RepaverLaneInput, 'cluster' | 'group'>;

/** Starts (or signals) every group's lane with `imageId` pinned; returns their workflow IDs. */
export async function pinImageOnLanes(client: Client, cluster: string, groups: string[], imageId: string, lane: LaneOptions): Promise<string[]> {
  return Promise.all(
    groups.map(async (group) => {
      const workflowId = repaverLaneWorkflowId(cluster, group);
      await client.workflow.signalWithStart(repaverLane, {
        workflowId,
        taskQueue: TASK_QUEUE,
        args: [{ cluster, group, ...lane }],
        signal: setDesiredImageSignal,
        signalArgs: [{ by: 'bench', imageId, drift: 'all' }],
      });
      return workflowId;
    }),
  );
}

export const laneState = (client: Client, workflowId: string) => client.workflow.getHandle(workflowId).query(laneStateQuery);

/**
 * Waits until every lane has replaced `nodes` nodes and has none in flight; a failed repave fails the wait (its lane would back off for minutes).
 * Until as many repaves as that have closed (started since `since`), it counts them in Temporal's visibility store instead of
 * asking the lanes: ten queries a second are work for the worker under measurement, and each waits with its lane's workflow tasks.
 */
export async function awaitLanesReplaced(client: Client, laneIds: string[], nodes: number, timeoutMs: number, since: Date, log?: (line: string) => void): Promise<LaneState[]> {
  const started = Date.now();
  let logged = started;
  const total = nodes * laneIds.length;
  const repaves = `WorkflowType = 'repaveNode' AND StartTime >= '${since.toISOString()}'`;
  await poll(
    `${total} repaves to close`,
    async () => {
      // One count a second: a failed repave closes too, and the lanes' histories below name it.
      const closed = (await client.workflow.count(`${repaves} AND ExecutionStatus != 'Running'`)).count;
      if (log && Date.now() - logged >= 30_000) {
        logged = Date.now();
        log(`${Math.round((logged - started) / 1000)} s: ${closed} of ${total} repaves closed`);
      }
      return closed >= total;
    },
    { timeoutMs, everyMs: 1000, retryErrors: true },
  );
  return poll(
    `${laneIds.length} lanes to replace ${nodes} nodes each`,
    async () => {
      const states = await Promise.all(laneIds.map((id) => laneState(client, id)));
      const failed = states.flatMap((s) => s.history.filter((h) => (h.outcome === 'failed' || h.outcome === 'refused') && !refusedAfterReplaced(s, h)).map((h) => `${s.group}/${h.node}: ${h.detail ?? h.reason}`));
      if (failed.length) throw new GiveUp(`repaves failed: ${failed.join('; ')}`);
      return states.every((s) => s.totals.replaced >= nodes && s.inFlight.length === 0) && states;
    },
    // a query the worker could not answer in time (a lane's workflow task queued behind 100 repaves') is asked again
    { timeoutMs: Math.max(60_000, timeoutMs - (Date.now() - started)), everyMs: 200, retryErrors: true },
  );
}

type LaneEntry = LaneState['history'][number];

/**
 * A repave refused because its node no longer exists: the lane's sweep planned a node an earlier repave had just
 * deleted (the lane race, bench/HISTORY.md; fixed by the lane's patch `lane-changes-while-listing`, so 0 is expected and
 * the count shows a regression). The node was repaved (its first run's outcome counts, a failure as a failure), so the
 * wait goes on; `lateRefusals` counts them for the report. The lane keeps only its last 100 history entries, so the
 * first run's entry may be gone by then: it is not looked for.
 */
export function refusedAfterReplaced(_lane: LaneState, entry: LaneEntry): boolean {
  return entry.outcome === 'refused' && /does not exist/.test(entry.detail ?? '');
}

export const lateRefusals = (states: LaneState[]): number => states.reduce((n, s) => n + s.history.filter((h) => refusedAfterReplaced(s, h)).length, 0);

/** Sends sweepNow `times` times, each after the last sweep was counted; the lane's history length before and after. */
export async function sweepRepeatedly(client: Client, workflowId: string, times: number): Promise<{ before: number; after: number; runsBefore: number; runs: number }> {
  const handle = client.workflow.getHandle(workflowId);
  const historyLength = async () => (await handle.describe()).historyLength;
  const runsBefore = (await laneState(client, workflowId)).runs;
  const before = await historyLength();
  for (let i = 0; i < times; i++) {
    const { sweeps, runs } = await laneState(client, workflowId);
    await handle.signal(sweepNowSignal);
    await poll(`sweep ${i + 1} of ${times} of ${workflowId}`, async () => {
      const s = await laneState(client, workflowId);
      return (s.runs > runs || s.sweeps > sweeps) && s.phase !== 'sweeping';
    }, { timeoutMs: 30_000, everyMs: 50, retryErrors: true });
  }
  return { before, after: await historyLength(), runsBefore, runs: (await laneState(client, workflowId)).runs };
}

/** Ends the lanes (they would go on sweeping a sim that is gone); one already closed is fine. */
export async function terminateLanes(client: Client, laneIds: string[]): Promise<void> {
  const terminate = async (id: string) => {
    try {
      await client.workflow.getHandle(id).terminate('bench: done');
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  };
  await Promise.all(laneIds.map(terminate));
}
