import * as k8s from '@kubernetes/client-node';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetConfig, NodeGroupConfig } from '../../src/core/config.js';
import { nodeGroupManagerWorkflowId, repaverLaneWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { LABEL_CLUSTER, LABEL_FAULT_DOMAIN, LABEL_NODE_GROUP, LABEL_ZONE, TAG_CLUSTER, TAG_NODE_GROUP, TAG_REPLACES } from '../../src/core/labels.js';
import { zoneOf, type NodeGroupManagerInput, type NodeGroupManagerProgress } from '../../src/core/node-groups.js';
import { LANE_SIGNAL_SWEEP_NOW, type LaneState } from '../../src/core/lane/index.js';
import { RUNBOOK_SIGNAL_PAUSE } from '../../src/core/runbook.js';
import { loadFleetConfig } from '../../src/config/fleet-config.js';
import { reportUnhealthyNode, signalRepaverLane } from '../../src/client/schedules.js';
import { testbedFromEnv } from '../../testbeds/index.js';
import { nodeGroupManager } from '../../src/workflows/node-group-manager.js';
import { progressQueryOf } from '../../src/workflows/runbook.js';

const managerProgressQuery = progressQueryOf<NodeGroupManagerProgress>();
import { laneStateQuery } from '../../src/workflows/repaver-lane.js';
import { failureOf } from '../helpers/workflow-env.js';
import { eventually, isReady, nodesOfGroup, removeCassandraRing, runWorker, startStack, type Stack } from '../helpers/stack.js';

const CLUSTER = 'sim-1';

let stack: Stack;
let fleet: FleetConfig;
let worker: { stop(): Promise<void> } | undefined;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  stack = await startStack({ bootDelayMs: 800, nodeReadyDelayMs: 400 });
  await removeCassandraRing(stack);
  fleet = loadFleetConfig(writeFleetWithExtraGroup());
  worker = await runWorker(stack, fleet);
});
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

/**
 * The fleet file the worker reads: the sim's, plus a group `extra` (size 2, general's shape, image and
 * placement style, its own subnets). general's maxAge is raised to 365d: holding a lane signal-with-starts
 * it, so every manager run leaves its group's lane running, and a lane with the default 30d would repave
 * the seeded 41-day-old node on its own between the steps below. The lane step sets its own maxAge.
 * general's minReady is 2, so that it may be scaled down to 2 nodes.
 * Written beside the original so that its relative kubeconfig/OCI paths still resolve.
 */
function writeFleetWithExtraGroup(): string {
  const doc = YAML.parse(readFileSync(stack.sim.fleetConfigPath, 'utf8')) as { clusters: { name: string; nodeGroups: Record<string, unknown>[] }[] };
  const groups = doc.clusters.find((c) => c.name === CLUSTER)!.nodeGroups;
  const general = groups.find((g) => g.name === 'general')!;
  general.maxAge = '365d';
  general.minReady = 2; // the scale-down with a running lane below goes from 3 to 2 nodes
  const placement = (general.placement as { availabilityDomain: string; faultDomain: string; subnetId: string }[]).map((p) => ({ ...p, subnetId: p.subnetId.replace('general', 'extra') }));
  groups.push({ ...structuredClone(general), name: 'extra', size: 2, maxAge: '30d', placement, labels: { [LABEL_CLUSTER]: CLUSTER, [LABEL_NODE_GROUP]: 'extra' } });
  const path = join(dirname(stack.sim.fleetConfigPath), 'fleet-node-group-manager.yaml');
  writeFileSync(path, YAML.stringify(doc));
  return path;
}

const groupConfig = (name: string): NodeGroupConfig => fleet.clusters[0]!.nodeGroups.find((g) => g.name === name)!;
const managerId = (group: string) => nodeGroupManagerWorkflowId(CLUSTER, group);
const manage = (input: Omit<NodeGroupManagerInput, 'cluster'>) =>
  stack.client.workflow.execute(nodeGroupManager, { taskQueue: TASK_QUEUE, workflowId: managerId(input.group), args: [{ cluster: CLUSTER, ...input }] });
const laneHandle = (group: string) => stack.client.workflow.getHandle(repaverLaneWorkflowId(CLUSTER, group));
const laneState = (group: string) => laneHandle(group).query(laneStateQuery) as Promise<LaneState>;
const laneRunning = async (group: string) => {
  try {
    return (await laneHandle(group).describe()).status.name === 'RUNNING';
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    throw e;
  }
};
/** Stop the lane a previous manager run left behind (after checking it repaves nothing), so the next step runs without one. */
async function stopLane(group: string) {
  if (!(await laneRunning(group))) return;
  expect((await laneState(group)).inFlight).toEqual([]);
  await laneHandle(group).terminate('e2e: next step runs without a lane');
  expect(await laneRunning(group)).toBe(false);
}

const name = (n: k8s.V1Node) => n.metadata!.name!;
const instanceOf = (n: k8s.V1Node) => n.spec!.providerID!.replace('oci://', '');
const placeKey = (zone: string | undefined, fd: string | undefined) => `${zone}/${fd}`;
const nodePlace = (n: k8s.V1Node) => placeKey(n.metadata!.labels![LABEL_ZONE], n.metadata!.labels![LABEL_FAULT_DOMAIN]);
const configPlace = (p: { availabilityDomain: string; faultDomain: string }) => placeKey(zoneOf(p.availabilityDomain), p.faultDomain);

const runningReady = (p: k8s.V1Pod) =>
  !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && (p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
const shopPods = async () => (await stack.core.listNamespacedPod({ namespace: 'shop' })).items;
/** Every shop pod (web 4, api 3, worker 2) Running and Ready, none on the given nodes. */
const shopServedOff = (gone: string[]) =>
  eventually(`shop pods running off ${gone.join(', ')}`, async () => {
    const pods = await shopPods();
    return pods.length === 9 && pods.every((p) => runningReady(p) && !gone.includes(p.spec?.nodeName ?? '')) && pods;
  }, 30_000);

/**
 * The PDBs of the shop (web minAvailable 3 of 4, api maxUnavailable 1 of 3): the fewest healthy pods of each,
 * sampled every 100 ms while `body` runs. A replacement pod needs 500 ms to start, so any dip is seen.
 */
async function watchingPdbs<T>(body: () => Promise<T>): Promise<{ result: T; minHealthy: { web: number; api: number } }> {
  const minHealthy = { web: Infinity, api: Infinity };
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const pods = await shopPods().catch(() => undefined);
      if (pods) {
        for (const app of ['web', 'api'] as const) {
          minHealthy[app] = Math.min(minHealthy[app], pods.filter((p) => p.metadata?.labels?.app === app && runningReady(p)).length);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return { result: await body(), minHealthy };
  } finally {
    done = true;
    await sampler;
  }
}

/** The group's readiness timeline from `since` on (the sim records a point at every change of the counts). */
function timeline(group: string, since: string) {
  const points = stack.sim.kube.readinessTimeline(group).filter((p) => p.at >= since);
  return { points, minSchedulable: Math.min(...points.map((p) => p.readySchedulable)), maxCordoned: Math.max(...points.map((p) => p.ready - p.readySchedulable)) };
}

async function expectTerminated(instanceIds: string[]) {
  await eventually(`${instanceIds.join(', ')} TERMINATED`, async () => instanceIds.every((id) => stack.sim.oci.fleet.getInstance(id).lifecycleState === 'TERMINATED'), 15_000);
}

/**
 * Make one of `targets` host a shop pod, whatever the test bed's scheduler did with the seed: every other node of
 * a group is cordoned (as the administrator), a shop/worker pod elsewhere (no PDB) is deleted, and its replacement
 * can only land on a target; then the cordons are lifted. Through the Kubernetes API, so the same on both beds.
 */
async function hostShopPodOn(targets: string[]): Promise<void> {
  const core = stack.admin.makeApiClient(k8s.CoreV1Api);
  const setUnschedulable = (node: string, unschedulable: boolean) =>
    core.patchNode({ name: node, body: { spec: { unschedulable } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  const others = (await core.listNode({ labelSelector: LABEL_NODE_GROUP })).items.filter((n) => !targets.includes(name(n)) && !n.spec?.unschedulable).map(name);
  await Promise.all(others.map((n) => setUnschedulable(n, true)));
  try {
    const movable = (await shopPods()).find((p) => p.metadata?.labels?.app === 'worker' && !targets.includes(p.spec?.nodeName ?? ''));
    if (movable) await core.deleteNamespacedPod({ namespace: 'shop', name: movable.metadata!.name!, gracePeriodSeconds: 0 });
    await eventually(`a shop pod running on ${targets.join(' or ')}`, async () => {
      const pods = await shopPods();
      return pods.length === 9 && pods.every(runningReady) && pods.some((p) => targets.includes(p.spec?.nodeName ?? ''));
    }, 30_000);
  } finally {
    await Promise.all(others.map((n) => setUnschedulable(n, false)));
  }
}

describe(`nodeGroupManager end to end (dev server + worker + ${testbedFromEnv()} test bed)`, () => {
  it('refuses bad input before any side effect: no lane held, no instance launched, no node touched', async () => {
    const launches = stack.sim.oci.counters().launches;
    const generalBefore = (await nodesOfGroup(stack.core, 'general')).map(name).sort();

    const cases: [Omit<NodeGroupManagerInput, 'cluster'>, string, RegExp][] = [
      [{ group: 'general', action: 'scale' }, 'InvalidInput', /^invalid nodeGroupManager input: size: scale needs a target size$/],
      [{ group: 'extra', action: 'delete', size: 0 }, 'InvalidInput', /size: delete removes every node; give no size/],
      [{ group: 'nope', action: 'create' }, 'Refused', /^refused to create node group nope: group: node group nope is not in the fleet configuration of cluster sim-1$/],
      [{ group: 'general', action: 'scale', size: 3, nodes: ['sim-1-batch-1'] }, 'Refused', /nodes: sim-1-batch-1 not in the group \(members: sim-1-general-1, /],
      [{ group: 'general', action: 'scale', size: 0 }, 'Refused', /^refused to scale node group general: size: 0 is below node group general's minimum of 2 Ready nodes .*use action delete$/],
      [{ group: 'general', action: 'scale', size: 9 }, 'Refused', /^refused to scale node group general: size: 9 is above node group general's ceiling of 8 nodes/],
    ];
    for (const [input, type, message] of cases) {
      const failure = await failureOf(manage(input));
      expect(failure.type, JSON.stringify(input)).toBe(type);
      expect(failure.message, JSON.stringify(input)).toMatch(message);
      expect(failure.nonRetryable).toBe(true);
      // Nothing but reads was scheduled: the lane was not even held.
      const history = await stack.client.workflow.getHandle(managerId(input.group)).fetchHistory();
      const activities = (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      expect(activities.filter((a) => a !== 'describeNodeGroup' && a !== 'listNodeGroupNodes'), JSON.stringify(input)).toEqual([]);
    }

    expect(stack.sim.oci.counters().launches).toBe(launches);
    for (const g of ['general', 'extra', 'nope']) expect(await laneRunning(g), `lane ${g}`).toBe(false);
    const general = await nodesOfGroup(stack.core, 'general');
    expect(general.map(name).sort()).toEqual(generalBefore);
    expect(general.every((n) => isReady(n) && !n.spec?.unschedulable && !n.metadata?.annotations?.['itinerant.dev/owner'])).toBe(true);
    expect(await nodesOfGroup(stack.core, 'extra')).toEqual([]);
  });

  it('create: a new group gets its configured size in Ready nodes, spread as its placement says, instances tagged', async () => {
    const cfg = groupConfig('extra');
    const launches = stack.sim.oci.counters().launches;

    const result = await manage({ group: 'extra', action: 'create' });

    expect(result).toMatchObject({ cluster: CLUSTER, group: 'extra', action: 'create', from: 0, to: 2, removed: [] });
    expect(result.launched).toHaveLength(2);
    expect(stack.sim.oci.counters().launches - launches).toBe(2);
    const nodes = await nodesOfGroup(stack.core, 'extra');
    expect(nodes.map(name).sort()).toEqual([...result.launched].sort());
    for (const n of nodes) {
      expect(isReady(n) && !n.spec?.unschedulable, name(n)).toBe(true);
      expect(n.metadata!.labels).toMatchObject({ [LABEL_CLUSTER]: CLUSTER, [LABEL_NODE_GROUP]: 'extra' });
    }
    // Empty group: one node per placement, in config order (the least-loaded placement, ties in order).
    expect(nodes.map(nodePlace).sort()).toEqual(cfg.placement.slice(0, 2).map(configPlace).sort());
    expect(new Set(nodes.map((n) => n.metadata!.labels![LABEL_FAULT_DOMAIN])).size).toBe(2);
    for (const n of nodes) {
      const inst = stack.sim.oci.fleet.getInstance(instanceOf(n));
      expect(inst.lifecycleState).toBe('RUNNING');
      expect(inst.displayName).toBe(name(n));
      expect(inst.shape).toBe(cfg.shape);
      expect(inst.freeformTags).toMatchObject({ [TAG_CLUSTER]: CLUSTER, [TAG_NODE_GROUP]: 'extra', [TAG_REPLACES]: managerId('extra') });
      expect(cfg.placement.some((p) => p.availabilityDomain === inst.availabilityDomain && p.faultDomain === inst.faultDomain)).toBe(true);
      expect(nodePlace(n)).toBe(placeKey(zoneOf(inst.availabilityDomain), inst.faultDomain));
    }
    // The node-agent DaemonSet runs on each new node (part of "operational").
    const agents = (await stack.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'app=node-agent' })).items;
    for (const n of nodes) expect(agents.some((p) => p.spec?.nodeName === name(n) && p.status?.phase === 'Running'), name(n)).toBe(true);

    // The hold signal-with-started the group's lane; it records the hold and its release by this run.
    const lane = await laneState('extra');
    expect(lane.holds).toEqual([]);
    expect(lane.history.filter((h) => h.outcome === 'held' || h.outcome === 'released').map((h) => h.outcome)).toEqual(['held', 'released']);
    expect(lane.history.find((h) => h.outcome === 'held')?.reason).toContain(managerId('extra'));
  });

  it('scale without a lane: 4 → 5 fills the emptiest fault domain; 5 → 3 removes the youngest one at a time, PDBs honoured', async () => {
    const cfg = groupConfig('general');
    expect(cfg.maxUnavailable).toBe(1);
    expect(await laneRunning('general')).toBe(false);
    const seeded = await nodesOfGroup(stack.core, 'general');
    expect(seeded).toHaveLength(4);

    // ---- up
    const upSince = new Date().toISOString();
    const load = cfg.placement.map((p) => seeded.filter((n) => nodePlace(n) === configPlace(p)).length);
    const emptiest = cfg.placement[load.indexOf(Math.min(...load))]!;
    const up = await manage({ group: 'general', action: 'scale', size: 5 });
    expect(up).toMatchObject({ from: 4, to: 5, removed: [] });
    expect(up.launched).toHaveLength(1);
    const five = await nodesOfGroup(stack.core, 'general');
    expect(five).toHaveLength(5);
    expect(five.every((n) => isReady(n) && !n.spec?.unschedulable)).toBe(true);
    const added = five.find((n) => name(n) === up.launched[0])!;
    expect(nodePlace(added)).toBe(configPlace(emptiest));
    expect(stack.sim.oci.fleet.getInstance(instanceOf(added)).freeformTags).toMatchObject({ [TAG_NODE_GROUP]: 'general', [TAG_REPLACES]: managerId('general') });
    const upTimeline = timeline('general', upSince);
    expect(upTimeline.minSchedulable).toBeGreaterThanOrEqual(4); // scaling up takes nothing out of service
    expect(upTimeline.points.at(-1)).toMatchObject({ ready: 5, readySchedulable: 5 });

    // The hold started general's lane (idle: nothing is aged under the 365d maxAge); stop it for the scale-down.
    await stopLane('general');

    // ---- down
    // Youngest first: a node is as old as its machine (the instance's launch time; the seed back-dates them over
    // days on both test beds), ties by name.
    const launched = (n: (typeof five)[number]) => Date.parse(String(stack.sim.oci.fleet.getInstance(instanceOf(n)).timeCreated));
    const youngestFirst = [...five].sort((a, b) => launched(b) - launched(a) || (name(a) < name(b) ? -1 : 1));
    // The added node first (the youngest, in a fault domain with two); then the younger of the fault domain
    // that still has two.
    const first = youngestFirst[0]!;
    const inPlace = (place: string) => five.filter((n) => n !== first && nodePlace(n) === place).length;
    const expected = [first, youngestFirst.slice(1).find((n) => inPlace(nodePlace(n)) === 2)!];
    // The drain must have work on both test beds: the schedulers place the seeded shop pods differently, so put one there.
    await hostShopPodOn(expected.map(name));
    const onRemoved = (await shopPods()).filter((p) => expected.some((n) => name(n) === p.spec?.nodeName)).map((p) => p.metadata!.name!);
    expect(onRemoved.length).toBeGreaterThan(0);
    const launches = stack.sim.oci.counters().launches;
    const downSince = new Date().toISOString();
    const { result: down, minHealthy } = await watchingPdbs(() => manage({ group: 'general', action: 'scale', size: 3 }));

    expect(down).toMatchObject({ from: 5, to: 3, launched: [] });
    // The youngest first; both came from the fault domains that had two nodes, so one node per fault domain is left.
    expect(down.removed).toEqual(expected.map(name));
    const three = await nodesOfGroup(stack.core, 'general');
    expect(three.map(name).sort()).toEqual(five.filter((n) => !expected.includes(n)).map(name).sort());
    expect(new Set(three.map((n) => n.metadata!.labels![LABEL_FAULT_DOMAIN])).size).toBe(3);
    expect(three.every((n) => isReady(n) && !n.spec?.unschedulable)).toBe(true);
    await expectTerminated(expected.map(instanceOf));
    expect(stack.sim.oci.counters().launches).toBe(launches);
    // Evicted pods run elsewhere, within the PDBs all along.
    const after = await shopServedOff(down.removed);
    expect(after.map((p) => p.metadata!.name)).not.toContain(onRemoved[0]); // evicted, replaced elsewhere
    expect(minHealthy.web).toBeGreaterThanOrEqual(3);
    expect(minHealthy.api).toBeGreaterThanOrEqual(2);

    // Documented: at most maxUnavailable nodes out of service at once, so Ready-and-schedulable never drops
    // below the target, and never more than maxUnavailable nodes cordoned at once (one removal after the other).
    const downTimeline = timeline('general', downSince);
    expect(downTimeline.minSchedulable).toBe(3);
    expect(downTimeline.maxCordoned).toBe(cfg.maxUnavailable);
    expect(Math.min(...downTimeline.points.map((p) => p.ready))).toBeGreaterThanOrEqual(3);
    expect(downTimeline.points.at(-1)).toMatchObject({ ready: 3, readySchedulable: 3 });
  });

  it("scale down with a running lane: the manager waits for the lane's repave in flight and holds the lane while it removes", async () => {
    await stopLane('general');
    const since = new Date().toISOString();
    const before = (await nodesOfGroup(stack.core, 'general')).map(name);
    expect(before).toHaveLength(3);
    // Sim: a lane that wants to repave every node (maxAge 1h, the least the pace allows; the sim back-dates
    // its seeded nodes by days): it starts on the oldest right away. Control plane: the API server sets a
    // Node's creationTimestamp itself, so no node is an hour old; the lane gets its work from an unhealthy
    // report instead (one node: maxUnhealthy 25% of 4 is 1, more would open the breaker).
    const byReport = stack.backend !== 'sim';
    const report = (node: string) => reportUnhealthyNode(stack.client, { cluster: CLUSTER, group: 'general', node, reason: 'e2e: lane work without aged nodes' });
    if (byReport) await report([...before].sort()[0]!);
    else await signalRepaverLane(stack.client, { cluster: CLUSTER, group: 'general', signal: LANE_SIGNAL_SWEEP_NOW, lane: { pace: { maxAge: '1h' } } });
    const repaving = await eventually('the lane repaving a node', async () => (await laneState('general')).inFlight[0]?.node, 30_000, 100);

    // The busiest other node goes; evicted pods linger 1.5 s so that its drain is long enough to watch the lane.
    const pods = await shopPods();
    const victim = before
      .filter((n) => n !== repaving)
      .sort((a, b) => pods.filter((p) => p.spec?.nodeName === b).length - pods.filter((p) => p.spec?.nodeName === a).length || a.localeCompare(b))[0]!;
    stack.sim.kube.faults.evictionDelayMs = 1500;
    const handle = await stack.client.workflow.start(nodeGroupManager, {
      taskQueue: TASK_QUEUE,
      workflowId: managerId('general'),
      args: [{ cluster: CLUSTER, group: 'general', action: 'scale', size: 2, nodes: [victim] }],
    });

    // Watch the lane while the manager runs. Once its repave has finished under the hold, the lane must be
    // held, idle, with aged nodes queued that it does not start; it is then paused so that it stays quiet
    // after the release too (the rest of the file counts nodes). Control plane: nothing is aged, so the
    // third node (neither the repaved one nor the victim) is reported once the lane is held and idle, and
    // must queue without starting.
    const spare = before.find((n) => n !== repaving && n !== victim)!;
    let spareReported = !byReport;
    const seen: { phase: string; inFlight: number; queued: number; holders: string[]; started: number }[] = [];
    let paused = false;
    const watch = async () => {
      for (;;) {
        const desc = await handle.describe();
        const s = await laneState('general');
        if (!spareReported && s.phase === 'held' && s.inFlight.length === 0) {
          await report(spare);
          spareReported = true;
        }
        seen.push({ phase: s.phase, inFlight: s.inFlight.length, queued: s.queue.length, holders: s.holds.map((h) => h.holder), started: s.totals.started });
        if (!paused && s.phase === 'held' && s.inFlight.length === 0 && s.queue.length > 0) {
          await laneHandle('general').signal(RUNBOOK_SIGNAL_PAUSE, 'e2e: keep the lane quiet after the manager');
          paused = true;
        }
        if (desc.status.name !== 'RUNNING') return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let progress: NodeGroupManagerProgress | undefined;
    try {
      const [result] = await Promise.all([handle.result(), watch()]);
      progress = await handle.query(managerProgressQuery);
      expect(result).toMatchObject({ from: 3, to: 2, removed: [victim], launched: [] });
    } finally {
      stack.sim.kube.faults.evictionDelayMs = 0;
    }

    // The lane was held by this run, saw its repave through, and started nothing else while held.
    expect(seen.some((s) => s.holders.includes(managerId('general')))).toBe(true);
    expect(seen.some((s) => s.phase === 'held' && s.inFlight === 0 && s.queued > 0 && s.holders.includes(managerId('general')))).toBe(true);
    expect(paused).toBe(true);
    expect(Math.max(...seen.map((s) => s.started))).toBe(1);
    const lane = await laneState('general');
    expect(lane.totals.started).toBe(1);
    expect(lane.inFlight).toEqual([]);
    const replaced = lane.history.find((h) => h.node === repaving && h.outcome === 'replaced');
    expect(replaced, JSON.stringify(lane.history)).toBeDefined();
    const events = lane.history.filter((h) => ['held', 'released', 'replaced'].includes(h.outcome)).map((h) => h.outcome);
    expect(events).toEqual(['held', 'replaced', 'released']);
    // The manager's removal began only once the repave was over.
    const idleAt = progress!.log.find((l) => l.message.startsWith('repaver lane held; no repave in flight'))!.at;
    expect(Date.parse(replaced!.at)).toBeLessThanOrEqual(Date.parse(idleAt));
    expect(progress!.log.map((l) => l.message)).toContain(`drained ${victim}: ${pods.filter((p) => p.spec?.nodeName === victim).length} pods evicted`);

    const nodes = await nodesOfGroup(stack.core, 'general');
    expect(nodes.map(name)).not.toContain(victim);
    expect(nodes.map(name)).not.toContain(repaving);
    expect(nodes.map(name)).toContain(replaced!.replacement);
    expect(nodes).toHaveLength(2);
    expect(nodes.every((n) => isReady(n) && !n.spec?.unschedulable)).toBe(true);
    await shopServedOff([victim, repaving]);
    // Repave and removal never overlapped: never more than maxUnavailable cordoned nodes, never fewer than 2 serving.
    const t = timeline('general', since);
    expect(t.maxCordoned).toBe(1);
    expect(t.minSchedulable).toBeGreaterThanOrEqual(2);
    await stopLane('general');
  });

  it('delete: every node of the group drained and removed, its instances terminated', async () => {
    const cfg = groupConfig('extra');
    const nodes = await nodesOfGroup(stack.core, 'extra');
    expect(nodes).toHaveLength(2);
    const since = new Date().toISOString();
    const launches = stack.sim.oci.counters().launches;

    const { result, minHealthy } = await watchingPdbs(() => manage({ group: 'extra', action: 'delete' }));

    expect(result).toMatchObject({ action: 'delete', from: 2, to: 0, launched: [] });
    expect([...result.removed].sort()).toEqual(nodes.map(name).sort());
    expect(await nodesOfGroup(stack.core, 'extra')).toEqual([]);
    await expectTerminated(nodes.map(instanceOf));
    expect(stack.sim.oci.counters().launches).toBe(launches);
    await shopServedOff(result.removed);
    expect(minHealthy.web).toBeGreaterThanOrEqual(3);
    expect(minHealthy.api).toBeGreaterThanOrEqual(2);
    const t = timeline('extra', since);
    expect(t.maxCordoned).toBe(cfg.maxUnavailable);
    expect(t.points.at(-1)).toMatchObject({ ready: 0, readySchedulable: 0 });
    // The lane the create started is still there, idle over an empty group, and released.
    const lane = await laneState('extra');
    expect(lane.holds).toEqual([]);
    expect(lane.inFlight).toEqual([]);
  });
});
