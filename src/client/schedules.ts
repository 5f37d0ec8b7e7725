// Continuous repaving from Temporal Schedules: one Schedule per node group starts a short sweepNodeGroup
// workflow at the group's sweep interval; that workflow signal-with-starts the group's long-running
// repaver lane with sweepNow. Other services report unhealthy nodes the same way.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { FleetConfig } from '../core/config.js';
import { formatDuration } from '../core/duration.js';
import { repaverLaneWorkflowId, repaverScheduleId, sweepNodeGroupWorkflowId, TASK_QUEUE } from '../core/ids.js';
import {
  LANE_SIGNAL_SWEEP_NOW,
  LANE_SIGNAL_REPORT_UNHEALTHY,
  sweepIntervalOf,
  type LaneOptions,
  type RepaverLaneInput,
  type SweepNodeGroupInput,
} from '../core/lane/index.js';
import { RUNBOOK_SIGNAL_PAUSE, RUNBOOK_SIGNAL_RESUME } from '../core/runbook.js';
import { SA_CLUSTER, SA_NODE_GROUP, SA_RUNBOOK } from '../core/search-attributes.js';

const SCHEDULE_PREFIX = 'repaver-sweep.';

export interface ApplySchedulesOptions {
  taskQueue?: string;
  /** Delete repaver-sweep Schedules of this fleet's clusters whose node group is no longer configured (default true). */
  prune?: boolean;
  /** Extra input for lanes the sweeps start (e.g. readyTimeout). */
  lane?: LaneOptions;
}

export interface AppliedSchedule {
  scheduleId: string;
  cluster: string;
  group: string;
  interval: string;
  action: 'created' | 'updated' | 'unchanged' | 'deleted';
}


/**
 * Create or update one Schedule per node group of the fleet (ID repaver-sweep.<cluster>.<group>), firing
 * every sweepInterval with overlap SKIP, so that two sweeps of one group never run at once. Idempotent: a
 * second call changes nothing, and a Schedule an operator paused stays paused.
 */
export async function applySchedules(client: Client, fleet: FleetConfig, opts: ApplySchedulesOptions = {}): Promise<AppliedSchedule[]> {
  const taskQueue = opts.taskQueue ?? TASK_QUEUE;
  const out: AppliedSchedule[] = [];
  const wanted = new Set<string>();
  for (const cluster of fleet.clusters) {
    for (const group of cluster.nodeGroups) {
      const scheduleId = repaverScheduleId(cluster.name, group.name);
      wanted.add(scheduleId);
      const every = sweepIntervalOf(group);
      const input: SweepNodeGroupInput = { cluster: cluster.name, group: group.name, ...(opts.lane ? { lane: opts.lane } : {}) };
      const options = {
        scheduleId,
        spec: { intervals: [{ every }] },
        action: {
          type: 'startWorkflow' as const,
          workflowType: 'sweepNodeGroup',
          workflowId: sweepNodeGroupWorkflowId(cluster.name, group.name),
          taskQueue,
          args: [input],
          workflowExecutionTimeout: Math.max(60_000, Math.min(every, 30 * 60_000)),
          typedSearchAttributes: [
            { key: SA_CLUSTER, value: cluster.name },
            { key: SA_NODE_GROUP, value: group.name },
            { key: SA_RUNBOOK, value: 'sweepNodeGroup' },
          ],
        },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
      } satisfies ScheduleOptions;
      const base: AppliedSchedule = { scheduleId, cluster: cluster.name, group: group.name, interval: formatDuration(every), action: 'created' };
      try {
        await client.schedule.create({ ...options, state: { note: `repaver sweep of ${cluster.name}/${group.name} (itinerant schedules apply)` } });
        out.push(base);
        continue;
      } catch (e) {
        if (!(e instanceof ScheduleAlreadyRunning)) throw e;
      }
      const handle = client.schedule.getHandle(scheduleId);
      const current = await handle.describe();
      const act = current.action;
      const sameInterval = current.spec.intervals?.length === 1 && current.spec.intervals[0]?.every === every;
      const same =
        sameInterval &&
        (current.spec.calendars?.length ?? 0) === 0 &&
        act.type === 'startWorkflow' &&
        act.workflowType === 'sweepNodeGroup' &&
        act.taskQueue === taskQueue &&
        act.workflowId === options.action.workflowId &&
        JSON.stringify(act.args) === JSON.stringify(options.action.args) &&
        current.policies.overlap === ScheduleOverlapPolicy.SKIP;
      if (same) {
        out.push({ ...base, action: 'unchanged' });
        continue;
      }
      await handle.update((prev) => ({
        spec: options.spec,
        action: options.action,
        policies: { ...prev.policies, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
        state: { paused: prev.state.paused, ...(prev.state.note !== undefined ? { note: prev.state.note } : {}) },
      }));
      out.push({ ...base, action: 'updated' });
    }
  }
  if (opts.prune ?? true) {
    const clusters = new Set(fleet.clusters.map((c) => c.name));
    for await (const s of client.schedule.list()) {
      if (!s.scheduleId.startsWith(SCHEDULE_PREFIX) || wanted.has(s.scheduleId)) continue;
      const [cluster, group] = s.scheduleId.slice(SCHEDULE_PREFIX.length).split('.');
      if (!cluster || !group || !clusters.has(cluster)) continue; // another fleet's schedules are not ours to delete
      try {
        await client.schedule.getHandle(s.scheduleId).delete();
        out.push({ scheduleId: s.scheduleId, cluster, group, interval: '', action: 'deleted' });
      } catch (e) {
        if (!(e instanceof ScheduleNotFoundError)) throw e;
      }
    }
  }
  return out;
}

export type LaneSignal = typeof LANE_SIGNAL_SWEEP_NOW | typeof RUNBOOK_SIGNAL_PAUSE | typeof RUNBOOK_SIGNAL_RESUME | typeof LANE_SIGNAL_REPORT_UNHEALTHY;

/**
 * Signal the group's repaver lane, starting it when it is not running (signal-with-start): the lane
 * exists whenever anything needs it, and there is never more than one per group (its ID is derived).
 */
export async function signalRepaverLane(
  client: Client,
  a: { cluster: string; group: string; signal: LaneSignal; report?: { node: string; reason: string }; taskQueue?: string; lane?: LaneOptions },
): Promise<{ workflowId: string }> {
  const workflowId = repaverLaneWorkflowId(a.cluster, a.group);
  const laneInput: RepaverLaneInput = { ...(a.lane ?? {}), cluster: a.cluster, group: a.group };
  const signalArgs: unknown[] = a.signal === LANE_SIGNAL_REPORT_UNHEALTHY ? [a.report] : [];
  await client.workflow.signalWithStart('repaverLane', {
    workflowId,
    taskQueue: a.taskQueue ?? TASK_QUEUE,
    args: [laneInput],
    signal: a.signal,
    signalArgs,
    typedSearchAttributes: [
      { key: SA_CLUSTER, value: a.cluster },
      { key: SA_NODE_GROUP, value: a.group },
      { key: SA_RUNBOOK, value: 'repaverLane' },
    ],
  });
  return { workflowId };
}

/** For other services (a node problem detector): report a node as unhealthy to its group's lane; duplicates are harmless. */
export async function reportUnhealthyNode(
  client: Client,
  a: { cluster: string; group: string; node: string; reason: string; taskQueue?: string },
): Promise<{ workflowId: string }> {
  return signalRepaverLane(client, {
    cluster: a.cluster,
    group: a.group,
    signal: LANE_SIGNAL_REPORT_UNHEALTHY,
    report: { node: a.node, reason: a.reason },
    ...(a.taskQueue ? { taskQueue: a.taskQueue } : {}),
  });
}
