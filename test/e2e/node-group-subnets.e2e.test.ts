// A node group on dedicated subnets, end to end: nodeGroupManager create (the worker SIGKILLed while the new
// subnets provision, before the first launch) → scale → delete, with no subnet left behind.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contains, parseCidr } from '../../src/core/cidr.js';
import { nodeGroupManagerWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { LABEL_CLUSTER, LABEL_NODE_GROUP, TAG_NODE_GROUP } from '../../src/core/labels.js';
import type { NodeGroupManagerInput, NodeGroupManagerProgress } from '../../src/core/node-groups.js';
import { nodeGroupManager } from '../../src/workflows/node-group-manager.js';
import { progressQueryOf } from '../../src/workflows/runbook.js';
import { testbedFromEnv } from '../../testbeds/index.js';
import { eventually, isReady, nodesOfGroup, spawnWorkerProcess, startStack, stopWorkerProcess, type Stack } from '../helpers/stack.js';
import { giveUpIfExited, whileRunning } from '../helpers/wait.js';

const CLUSTER = 'sim-1';
const GROUP = 'dedicated';
const progress = progressQueryOf<NodeGroupManagerProgress>();

let stack: Stack;
let fleetPath: string;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  stack = await startStack({ bootDelayMs: 800, nodeReadyDelayMs: 400 });
  fleetPath = writeFleetWithDedicatedGroup();
});
afterAll(async () => {
  await stopWorkerProcess(worker, 'SIGKILL');
  await stack?.stop();
});

/** The sim's fleet file plus group `dedicated` (size 2, in AD-1 and AD-2, subnets of its own); beside it, so its relative paths resolve. */
function writeFleetWithDedicatedGroup(): string {
  const doc = YAML.parse(readFileSync(stack.sim.fleetConfigPath, 'utf8')) as { clusters: { name: string; nodeGroups: Record<string, unknown>[] }[] };
  const groups = doc.clusters.find((c) => c.name === CLUSTER)!.nodeGroups;
  const general = groups.find((g) => g.name === 'general')!;
  const placement = (general.placement as { availabilityDomain: string; faultDomain: string }[]).slice(0, 2).map(({ availabilityDomain, faultDomain }) => ({ availabilityDomain, faultDomain }));
  groups.push({ ...structuredClone(general), name: GROUP, size: 2, placement, subnets: { layout: 'per-availability-domain' }, labels: { [LABEL_CLUSTER]: CLUSTER, [LABEL_NODE_GROUP]: GROUP } });
  const path = join(dirname(stack.sim.fleetConfigPath), 'fleet-node-group-subnets.yaml');
  writeFileSync(path, YAML.stringify(doc));
  return path;
}

const startWorker = () => (worker = spawnWorkerProcess(stack, stack.server, { env: { ITINERANT_CONFIG: fleetPath } }));
const manage = (input: Omit<NodeGroupManagerInput, 'cluster' | 'group'>) =>
  stack.client.workflow.start(nodeGroupManager, { taskQueue: TASK_QUEUE, workflowId: nodeGroupManagerWorkflowId(CLUSTER, GROUP), args: [{ cluster: CLUSTER, group: GROUP, ...input }] });
/** The group's subnets in the sim, by tag, not TERMINATED. */
const liveSubnets = () =>
  stack.sim.oci.network.listSubnets({ compartmentId: stack.sim.compartmentId }).filter((s) => s.freeformTags[TAG_NODE_GROUP] === GROUP && s.lifecycleState !== 'TERMINATED');
const groupInstances = () => stack.sim.oci.fleet.listInstances({ compartmentId: stack.sim.compartmentId }).filter((i) => i.freeformTags?.[TAG_NODE_GROUP] === GROUP);

describe(`a node group on dedicated subnets end to end (dev server + worker process + ${testbedFromEnv()} test bed)`, () => {
  it('create: a worker SIGKILLed while the subnets provision is replaced; two subnets, each node in its AD subnet', async () => {
    const created = stack.sim.oci.network.counters.subnetsCreated;
    const launches = stack.sim.oci.counters().launches;
    stack.sim.oci.network.transitionDelayMs = 8000; // PROVISIONING long enough to kill the worker in the wait
    const handle = await manage({ action: 'create' });
    startWorker();
    await eventually('subnets PROVISIONING', async () => {
      giveUpIfExited(worker);
      return liveSubnets().length === 2 && liveSubnets().every((s) => s.lifecycleState === 'PROVISIONING');
    }, 90_000, 100);
    expect(stack.sim.oci.counters().launches).toBe(launches); // killed before the first launch
    await stopWorkerProcess(worker, 'SIGKILL');
    stack.sim.oci.network.transitionDelayMs = 300;
    startWorker();
    const result = await whileRunning(handle.result(), worker!, 'second worker');

    expect(result).toMatchObject({ from: 0, to: 2 });
    expect(stack.sim.oci.network.counters.subnetsCreated - created).toBe(2); // the retried step found them by tag
    expect(stack.sim.oci.counters().launches - launches).toBe(2);
    const subnets = liveSubnets();
    expect(subnets.map((s) => [s.availabilityDomain, s.cidrBlock, s.lifecycleState]).sort()).toEqual([
      [stack.sim.oci.fleet.availabilityDomains[0]!.name, '10.0.128.0/24', 'AVAILABLE'],
      [stack.sim.oci.fleet.availabilityDomains[1]!.name, '10.0.129.0/24', 'AVAILABLE'],
    ]);
    const ips = stack.sim.oci.fleet.summary().filter((i) => groupInstances().some((g) => g.id === i.id));
    for (const i of ips) {
      const inst = groupInstances().find((g) => g.id === i.id)!;
      const subnet = subnets.find((s) => s.availabilityDomain === inst.availabilityDomain)!;
      expect(contains(parseCidr(subnet.cidrBlock)!, parseCidr(`${i.privateIp}/32`)!), `${i.displayName} ${i.privateIp} in ${subnet.cidrBlock}`).toBe(true);
    }
    const nodes = await nodesOfGroup(stack.core, GROUP);
    expect(nodes.filter(isReady)).toHaveLength(2);

    const history = await handle.fetchHistory();
    const ensure = history.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'ensureNodeGroupSubnets');
    const attempt = history.events?.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === ensure?.eventId?.toString());
    expect(attempt?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThan(1);
    expect((await handle.query(progress)).subnets).toHaveLength(2);
  });

  it('scale: the new node goes onto the group subnets', async () => {
    const r = await whileRunning((await manage({ action: 'scale', size: 3 })).result(), worker!);
    expect(r).toMatchObject({ from: 2, to: 3 });
    expect(liveSubnets()).toHaveLength(2);
    const cidrs = liveSubnets().map((s) => parseCidr(s.cidrBlock)!);
    const live = stack.sim.oci.fleet.summary().filter((i) => i.lifecycleState === 'RUNNING' && groupInstances().some((g) => g.id === i.id));
    expect(live).toHaveLength(3);
    expect(live.every((i) => cidrs.some((c) => contains(c, parseCidr(`${i.privateIp}/32`)!)))).toBe(true);
  });

  it('delete: nodes drained and terminated first, then the subnets: none left behind', async () => {
    const r = await whileRunning((await manage({ action: 'delete' })).result(), worker!);
    expect(r).toMatchObject({ from: 3, to: 0 });
    expect(await nodesOfGroup(stack.core, GROUP)).toEqual([]);
    expect(groupInstances().every((i) => i.lifecycleState === 'TERMINATED')).toBe(true);
    expect(liveSubnets()).toEqual([]);
    expect(stack.sim.oci.network.counters.deletesRefusedForVnics).toBeGreaterThan(0); // OCI refused while instances were terminating: waited out
    await eventually('no subnet of the group listed', async () => liveSubnets().length === 0, 5000);
  });
});
