// Continuous key rotation: one Schedule per cluster with keyRotation (ID keyring-check.<cluster>) starts a short
// checkKeyrings workflow every checkEvery; it starts rotateKeys for each keyring that is due.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { FleetConfig } from '../core/config.js';
import { formatDuration } from '../core/duration.js';
import { TASK_QUEUE } from '../core/ids.js';
import { keyringCheckScheduleId, keyringCheckWorkflowId, type CheckKeyringsInput } from '../core/rotation.js';
import { SA_CLUSTER, SA_RUNBOOK } from '../core/search-attributes.js';


export interface AppliedKeyringSchedule {
  scheduleId: string;
  cluster: string;
  interval: string;
  action: 'created' | 'updated' | 'deleted';
}

/** Create or update the keyring-check Schedule of every cluster with keyRotation; delete those of this fleet's clusters without it. */
export async function applyKeyringSchedules(client: Client, fleet: FleetConfig, taskQueue = TASK_QUEUE): Promise<AppliedKeyringSchedule[]> {
  const out: AppliedKeyringSchedule[] = [];
  for (const cluster of fleet.clusters) {
    const scheduleId = keyringCheckScheduleId(cluster.name);
    const policy = cluster.keyRotation;
    if (!policy || !cluster.keyStore) {
      try {
        await client.schedule.getHandle(scheduleId).delete();
        out.push({ scheduleId, cluster: cluster.name, interval: '', action: 'deleted' });
      } catch (e) {
        if (!(e instanceof ScheduleNotFoundError)) throw e;
      }
      continue;
    }
    const input: CheckKeyringsInput = {
      cluster: cluster.name,
      purposes: policy.purposes,
      rotateEvery: policy.rotateEvery,
      expiringWithin: policy.expiringWithin,
      holdBetweenPhases: policy.holdBetweenPhases,
    };
    const options = {
      scheduleId,
      spec: { intervals: [{ every: policy.checkEvery }] },
      action: {
        type: 'startWorkflow' as const,
        workflowType: 'checkKeyrings',
        workflowId: keyringCheckWorkflowId(cluster.name),
        taskQueue,
        args: [input],
        workflowExecutionTimeout: 10 * 60_000,
        typedSearchAttributes: [
          { key: SA_CLUSTER, value: cluster.name },
          { key: SA_RUNBOOK, value: 'checkKeyrings' },
        ],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
    } satisfies ScheduleOptions;
    const base = { scheduleId, cluster: cluster.name, interval: formatDuration(policy.checkEvery) };
    try {
      await client.schedule.create({ ...options, state: { note: `key rotation checks of ${cluster.name} (itinerant schedules apply)` } });
      out.push({ ...base, action: 'created' });
    } catch (e) {
      if (!(e instanceof ScheduleAlreadyRunning)) throw e;
      await client.schedule.getHandle(scheduleId).update((prev) => ({
        spec: options.spec,
        action: options.action,
        policies: { ...prev.policies, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
        state: { paused: prev.state.paused, ...(prev.state.note !== undefined ? { note: prev.state.note } : {}) },
      }));
      out.push({ ...base, action: 'updated' });
    }
  }
  return out;
}

