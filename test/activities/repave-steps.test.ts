// The preflight's reads, side by side: which failure a repave is refused with, and what an undeclared group ignores.
import { describe, expect, it } from 'vitest';
import { repaveStepActivities } from '../../src/activities/repave-steps.js';
import type { NodeInspection } from '../../src/core/activity-contracts.js';
import type { NodeGroupConfig } from '../../src/core/config.js';

const facts: NodeInspection = { exists: true, controlPlane: false, ready: true, unschedulable: false, unmanagedPods: [], groupReady: 3, nodeGroup: 'general', instanceId: 'ocid1.instance.oc1..a' };
const group = { name: 'general' } as unknown as NodeGroupConfig;
const instance = { lifecycleState: 'RUNNING' };
const groupDown = new Error('the group configuration could not be read');
const instanceDown = new Error('the instance could not be read');

type Read<T> = T | Error;
function preflight(groupRead: Read<NodeGroupConfig | undefined>, instanceRead: Read<typeof instance>) {
  const settle = <T>(r: Read<T>) => (r instanceof Error ? Promise.reject(r) : Promise.resolve(r));
  const steps = repaveStepActivities({
    inspectNode: async () => facts,
    describeNodeGroup: () => settle(groupRead),
    describeInstance: () => settle(instanceRead),
  } as unknown as Parameters<typeof repaveStepActivities>[0]);
  return steps.preflightNode({ cluster: 'sim-1', node: 'sim-1-general-1' });
}

describe('preflightNode', () => {
  it.each([
    { name: 'a declared group and its instance', groupRead: group, instanceRead: instance, result: { facts, group, instance } },
    { name: 'an undeclared group: the instance read counts for nothing, failed or not', groupRead: undefined, instanceRead: instanceDown, result: { facts } },
    { name: 'an undeclared group, its instance found', groupRead: undefined, instanceRead: instance, result: { facts } },
  ])('$name', async ({ groupRead, instanceRead, result }) => {
    expect(await preflight(groupRead, instanceRead)).toEqual(result);
  });

  it.each([
    { name: "a declared group whose instance cannot be read: the instance's failure", groupRead: group, instanceRead: instanceDown, error: instanceDown },
    { name: "a group that cannot be read: the group's failure, whatever the instance's", groupRead: groupDown, instanceRead: instanceDown, error: groupDown },
    { name: 'a group that cannot be read, its instance found', groupRead: groupDown, instanceRead: instance, error: groupDown },
  ])('$name', async ({ groupRead, instanceRead, error }) => {
    await expect(preflight(groupRead, instanceRead)).rejects.toBe(error);
  });
});
