// Test-only workflow bundle for the rotateKeys tests: the real rotation, and a stub repaveNode (same workflow
// type name) that takes 20 minutes of workflow time and replaces the node through a test activity.
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { RepaveNodeInput, RepaveNodeResult } from '../../src/core/repave.js';

export { rotateKeys } from '../../src/workflows/rotate-keys.js';

export interface FakeRepaveNodeActivities {
  fakeReplaceNode(a: { node: string }): Promise<{ replacement: string }>;
}

const acts = proxyActivities<FakeRepaveNodeActivities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 1 } });

export async function repaveNode(input: RepaveNodeInput): Promise<RepaveNodeResult> {
  await sleep('20m');
  const { replacement } = await acts.fakeReplaceNode({ node: input.node });
  return { node: input.node, replacement: { nodeName: replacement, instanceId: `ocid1.instance.oc1..${replacement}` }, oldInstanceId: 'ocid1.instance.oc1..old', evictedPods: 0 };
}
