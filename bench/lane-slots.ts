// How busy the lanes keep their budget's slots (scenario 1): from each lane's history, the time from a repave's end
// to the next repave's start (the lane's reaction: a workflow task, a sweep, the child's start), and the share of the
// budget's slot time over the makespan that repaves held.
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { percentile, round, sum } from './measure.js';

export async function laneSlotUse(client: Client, laneIds: string[], budget: number, makespanMs: number) {
  const gaps: number[] = [];
  const waits: number[] = [];
  const tasks: number[] = [];
  const held: number[] = [];
  for (const id of laneIds) {
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const startedAt = new Map<string, number>();
    const at = new Map<string, number>();
    const ended: number[] = []; // repave ends not yet followed by a start
    let taskStartedAt = NaN; // the workflow task whose completion issued the commands that follow
    for (const e of events) {
      const t = tsToMs(e.eventTime);
      at.set(String(e.eventId), t);
      if (e.workflowTaskCompletedEventAttributes) taskStartedAt = at.get(String(e.workflowTaskCompletedEventAttributes.startedEventId)) ?? NaN;
      if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
        startedAt.set(String(e.eventId), t);
        const end = ended.shift();
        if (end !== undefined) {
          gaps.push(t - end);
          waits.push(Math.max(0, taskStartedAt - end));
          tasks.push(t - Math.max(taskStartedAt, end));
        }
      }
      const closed = e.childWorkflowExecutionCompletedEventAttributes ?? e.childWorkflowExecutionFailedEventAttributes ?? e.childWorkflowExecutionTerminatedEventAttributes;
      if (closed) {
        ended.push(t);
        const from = startedAt.get(String(closed.initiatedEventId));
        if (from !== undefined) held.push(t - from);
      }
    }
  }
  return {
    /** A repave's end → the lane's next start, while nodes were left to repave. */
    restartGapMs: { p50: percentile(gaps, 50), p99: percentile(gaps, 99), max: percentile(gaps, 100) },
    /** Of which: the repave's end → the lane's workflow task that started the next one picked up by the worker, then that task (its sweep). */
    restartGapSplitMs: { waitP50: percentile(waits, 50), waitP99: percentile(waits, 99), taskP50: percentile(tasks, 50), taskP99: percentile(tasks, 99) },
    /** Slot time the repaves held (initiated → closed, as the lane saw them) over budget × lanes × makespan. */
    slotUse: round(sum(held) / (budget * laneIds.length * makespanMs)),
  };
}
