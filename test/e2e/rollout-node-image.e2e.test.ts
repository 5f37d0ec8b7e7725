import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetConfig } from '../../src/core/config.js';
import { repaverLaneWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { TAG_IMAGE_CHANNEL, TAG_NODE_GROUP } from '../../src/core/labels.js';
import type { RepaverLaneInput } from '../../src/core/lane/index.js';
import { instanceIdOfProviderID } from '../../src/core/provider-id.js';
import type { RolloutNodeImageInput } from '../../src/core/rollout.js';
import { laneStateQuery, setDesiredImageSignal } from '../../src/workflows/repaver-lane.js';
import { itinerant } from '../helpers/cli.js';
import { eventually, nodesOfGroup, removeCassandraRing, runWorker, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let worker: { stop(): Promise<void> } | undefined;
const GROUPS = ['general', 'batch'] as const;

/** general is the dev group (channel dev), batch the prod one; both run the seeded prod image, general pinned to it by an earlier rollout. */
const devAndProd = (fleet: FleetConfig): FleetConfig => ({
  clusters: fleet.clusters.map((c) => ({ ...c, nodeGroups: c.nodeGroups.map((g) => (g.name === 'general' ? { ...g, image: { channel: 'dev' } } : g)) })),
});

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  stack = await startStack({ bootDelayMs: 800, nodeReadyDelayMs: 400 });
  await removeCassandraRing(stack);
  worker = await runWorker(stack, devAndProd(stack.fleet));
  const seededImage = stack.sim.oci.fleet.summary()[0]!.imageId;
  for (const group of GROUPS) {
    const lane: RepaverLaneInput = { cluster: 'sim-1', group, pace: { maxAge: '365d' }, sweepInterval: '2s', readyTimeout: '30s', failureBackoff: '2s' };
    await stack.client.workflow.start('repaverLane', { taskQueue: TASK_QUEUE, workflowId: repaverLaneWorkflowId('sim-1', group), args: [lane] });
  }
  await stack.client.workflow.getHandle(repaverLaneWorkflowId('sim-1', 'general')).signal(setDesiredImageSignal, { by: 'an-earlier-rollout', imageId: seededImage });
}, 120_000);
afterAll(async () => {
  for (const group of GROUPS) await stack?.client.workflow.getHandle(repaverLaneWorkflowId('sim-1', group)).terminate('test over').catch(() => undefined);
  await worker?.stop();
  await stack?.stop();
});

const rollout = (imageId: string, waves: RolloutNodeImageInput['waves']): RolloutNodeImageInput => ({ cluster: 'sim-1', channel: 'prod', imageId, waves, waveTimeout: '2m' });
const run = (input: RolloutNodeImageInput) => itinerant(stack.server.address, ['run', 'rollout-node-image', '--input', JSON.stringify(input), '--wait']).done;

/** Node name → the image its instance booted from. */
async function imagesOf(group: string): Promise<string[]> {
  const instances = new Map(stack.sim.oci.fleet.summary().map((i) => [i.id, i.imageId]));
  return (await nodesOfGroup(stack.core, group)).map((n) => instances.get(instanceIdOfProviderID(n.spec?.providerID)!)!);
}
/** Every image an instance of the group was ever launched from (terminated ones included). */
const everRan = (group: string) => new Set(stack.sim.oci.fleet.summary().filter((i) => i.freeformTags[TAG_NODE_GROUP] === group).map((i) => i.imageId));
const lanesIdle = () =>
  eventually('lanes idle', async () => (await Promise.all(GROUPS.map((g) => stack.client.workflow.getHandle(repaverLaneWorkflowId('sim-1', g)).query(laneStateQuery)))).every((s) => s.inFlight.length === 0), 60_000);

describe('rolloutNodeImage end to end (dev server + worker + lanes + simulated fleet)', () => {
  it('itinerant run rollout-node-image --wait promotes a good image through the dev group, then the prod group, and exits 0', async () => {
    const good = stack.sim.oci.fleet.addImage({ displayName: 'node-2026.12.01', freeformTags: { [TAG_IMAGE_CHANNEL]: 'dev' } }).id;
    const r = await run(rollout(good, [{ groups: ['general'], soak: '2s' }, { groups: ['batch'], soak: '2s' }]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/"outcome": "promoted"/);
    for (const g of GROUPS) expect(await imagesOf(g)).toEqual([good, good, good, good]);
    expect(stack.sim.oci.fleet.getImage(good).freeformTags).toMatchObject({ [TAG_IMAGE_CHANNEL]: 'prod', 'itinerant.dev/previous-channel': 'dev' });
    await lanesIdle();
  }, 240_000);

  it('stops a bad image (nodes NotReady after boot) in the dev wave, rolls it back, never touches the prod group, and exits 1', async () => {
    const before = await imagesOf('general');
    const bad = stack.sim.oci.fleet.addImage({ displayName: 'node-2026.12.02-bad', freeformTags: { [TAG_IMAGE_CHANNEL]: 'dev' } }).id;
    stack.sim.oci.faults.badImages = { [bad]: { notReadyAfterMs: 1500 } };
    try {
      const r = await run(rollout(bad, [{ groups: ['general'], nodes: 1, soak: '5s' }, { groups: ['batch'], soak: '2s' }]));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/rolled back: wave 1 failed its health gates: node general-\S+ is NotReady/);
    } finally {
      stack.sim.oci.faults.badImages = {};
    }
    expect(everRan('general').has(bad)).toBe(true); // the canary really booted from it
    expect(everRan('batch').has(bad)).toBe(false);
    expect(await imagesOf('general')).toEqual(before);
    expect(stack.sim.oci.fleet.getImage(bad).freeformTags[TAG_IMAGE_CHANNEL]).toBe('dev'); // the tag was taken back
  }, 240_000);
});
