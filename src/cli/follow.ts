// `run --wait` and `watch`: poll the progress query and describe() every second, print what is new,
// then the result (exit 0) or the failure chain (exit 1).
import type { Client, WorkflowHandle } from '@temporalio/client';
import { clock, formatFailure, ProgressTracker, type ProgressLike } from './progress.js';
import { RUNBOOK_QUERY_PROGRESS } from '../core/runbook.js';
import { isUnreachable, pendingActivities } from './temporal.js';

const QUERY_DEADLINE_MS = 5000;
const RECONNECT_FOR_MS = 5 * 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every runbook answers the frame's progress query with the shared shape (src/core/runbook.ts). */
export async function queryProgress(client: Client, handle: WorkflowHandle): Promise<ProgressLike> {
  return client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query<ProgressLike>(RUNBOOK_QUERY_PROGRESS));
}

export async function follow(client: Client, handle: WorkflowHandle, intervalMs = 1000): Promise<number> {
  const tracker = new ProgressTracker();
  const print = (lines: string[]) => lines.forEach((l) => console.log(l));
  let queryWarned = false;
  let lostSince: number | undefined;
  for (;;) {
    let desc;
    try {
      desc = await handle.describe();
    } catch (e) {
      // A server restart is survivable (the run is durable): keep trying for a while.
      if (!isUnreachable(e) || (lostSince !== undefined && Date.now() - lostSince > RECONNECT_FOR_MS)) throw e;
      if (lostSince === undefined) console.error(`${clock(new Date())}   (lost the connection to Temporal; retrying for up to ${RECONNECT_FOR_MS / 60_000} minutes)`);
      lostSince ??= Date.now();
      await sleep(intervalMs);
      continue;
    }
    if (lostSince !== undefined) console.error(`${clock(new Date())}   (reconnected)`);
    lostSince = undefined;
    const running = desc.status.name === 'RUNNING';
    try {
      print(tracker.progress(await queryProgress(client, handle), new Date(), handle.workflowId));
    } catch (e) {
      if (running && !queryWarned) {
        queryWarned = true;
        console.error(`${clock(new Date())}   (progress query not answered: ${(e as Error).message}; is a worker polling task queue ${desc.taskQueue}?)`);
      }
    }
    if (!running) break;
    print(tracker.activities(pendingActivities(client, desc), new Date()));
    await sleep(intervalMs);
  }
  try {
    const result: unknown = await handle.result();
    console.log(`${clock(new Date())} ✔ ${handle.workflowId} completed`);
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } catch (e) {
    console.error(`${clock(new Date())} ✘ ${handle.workflowId} failed: ${formatFailure(e)}`);
    return 1;
  }
}
