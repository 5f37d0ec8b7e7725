// Test-only workflow bundle for the repaver tests: the real lane, sweep and manager, with a stub repaveNode
// (same workflow type name) that takes 30 minutes of workflow time (or ends at once on FAKE_END_NOW) and reports to
// test activities.
import { ApplicationFailure, condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { RepaveNodeInput, RepaveNodeResult } from '../../src/core/repave.js';

export { repaverLane } from '../../src/workflows/repaver-lane.js';
export { sweepNodeGroup } from '../../src/workflows/sweep-node-group.js';
export { nodeGroupManager } from '../../src/workflows/node-group-manager.js';

export interface FakeRepaveActivities {
  fakeRepaveBegin(a: { node: string; workflowId: string }): Promise<{ fail?: string; durationMs: number }>;
  fakeRepaveFinish(a: { node: string; failed?: boolean; imageId?: string }): Promise<{ replacement: string }>;
}

export const FAKE_END_NOW = 'fakeEndNow';

const acts = proxyActivities<FakeRepaveActivities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 1 } });

export async function repaveNode(input: RepaveNodeInput): Promise<RepaveNodeResult> {
  const begun = await acts.fakeRepaveBegin({ node: input.node, workflowId: `repave-node.${input.cluster}.${input.node}` });
  let endNow = false;
  setHandler(defineSignal(FAKE_END_NOW), () => void (endNow = true));
  await condition(() => endNow, begun.durationMs);
  if (begun.fail) {
    await acts.fakeRepaveFinish({ node: input.node, failed: true }); // releases the claim, keeps the node
    throw ApplicationFailure.nonRetryable(begun.fail, 'Failed');
  }
  const r = await acts.fakeRepaveFinish({ node: input.node, ...(input.imageId ? { imageId: input.imageId } : {}) });
  return { node: input.node, replacement: { nodeName: r.replacement, instanceId: `ocid1.instance.oc1..${r.replacement}` }, oldInstanceId: 'ocid1.instance.oc1..old', evictedPods: 0 };
}
