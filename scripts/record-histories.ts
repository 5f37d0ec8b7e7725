/**
 * Record real workflow histories for the replay test (test/replay/replay.test.ts).
 *
 *   npx tsx scripts/record-histories.ts                    # every scenario
 *   npx tsx scripts/record-histories.ts --only lane        # scenarios whose name contains "lane" (repeatable)
 *   npx tsx scripts/record-histories.ts --list             # the scenario names
 *   npx tsx scripts/record-histories.ts --force            # overwrite existing files (refused otherwise)
 *
 * Starts what the e2e tests start (test/helpers/stack.ts: a Temporal dev server, the simulated fleet and an
 * in-process worker running the current workflow code; the `small` scenarios on a 2 × 2 fleet of their own),
 * drives each scenario to its expected end, checks
 * that end (a scenario that ends anywhere else stops the recorder with exit code 1 before its files are written),
 * that the history holds no key material, replays it against the same bundle, and writes it to test/replay/histories/<workflowType>-<scenario>.json
 * (the JSON form of `temporal workflow show --output json`; test/replay/history-json.ts says why not the SDK's historyToJSON).
 *
 * It refuses to overwrite an existing file unless --force. After a change of behaviour, record under a NEW
 * scenario name and keep the old files: they are what runs in flight look like (README, "Changing a workflow
 * safely").
 */
import * as k8s from '@kubernetes/client-node';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import {
  decommissionWorkflowId,
  nodeGroupManagerWorkflowId,
  repaveNodeWorkflowId,
  repaverLaneWorkflowId,
  rolloutDeploymentWorkflowId,
  rolloutNodeImageWorkflowId,
  sweepNodeGroupWorkflowId,
  TASK_QUEUE,
} from '../src/core/ids.js';
import { LABEL_NODE_GROUP, TAG_IMAGE_CHANNEL, TAG_NODE_GROUP } from '../src/core/labels.js';
import type { DecommissionProgress } from '../src/core/decommission.js';
import type { DeploymentRolloutProgress } from '../src/core/deployment-rollout.js';
import { keySecretName, type KeyPurpose } from '../src/core/keyring.js';
import { keyringCheckWorkflowId, rotateKeysWorkflowId, type RotateKeysProgress } from '../src/core/rotation.js';
import type { LaneState } from '../src/core/lane/index.js';
import type { NodeGroupManagerProgress } from '../src/core/node-groups.js';
import type { RepaveProgress } from '../src/core/repave.js';
import type { FleetConfig } from '../src/core/config.js';
import { loadFleetConfig } from '../src/config/fleet-config.js';
import { decommissionMember } from '../src/workflows/decommission-member.js';
import { checkKeyrings } from '../src/workflows/check-keyrings.js';
import { nodeGroupManager } from '../src/workflows/node-group-manager.js';
import { repaveNode } from '../src/workflows/repave-node.js';
import { laneStateQuery, PATCH_LANE_KEYRINGS, repaverLane, setPaceUpdate } from '../src/workflows/repaver-lane.js';
import { rolloutDeployment } from '../src/workflows/rollout-deployment.js';
import { rolloutNodeImage } from '../src/workflows/rollout-node-image.js';
import { PATCH_SPREAD_BY_LANE, rotateKeys } from '../src/workflows/rotate-keys.js';
import { abortSignal, answerUpdate, pauseSignal, progressQueryOf } from '../src/workflows/runbook.js';
import { sweepNodeGroup } from '../src/workflows/sweep-node-group.js';
import { signalRepaverLane } from '../src/client/schedules.js';
// Pods of this image crash-loop (the sim's kube fault crashLoopImages, set by the rolled-back scenario).
import { CRASH_LOOPING_IMAGE } from '../testbeds/control-plane/kwok-config.js';
import { workflowBundle } from '../test/helpers/bundle.js';
import { historyBytes } from '../test/helpers/raw-history.js';
import { localActivityOf } from '../test/helpers/local-activities.js';
import { historyFromJSON, historyToJSON } from '../test/replay/history-json.js';
import { eventually, nodesOfGroup, removeCassandraRing, runWorker, startStack, type Stack } from '../test/helpers/stack.js';

const OUT_DIR = fileURLToPath(new URL('../test/replay/histories/', import.meta.url));
const CLUSTER = 'sim-1';

type Ctx = { stack: Stack };
interface Scenario {
  /** <workflowType>-<scenario>: the file name(s) it writes start with this. */
  name: string;
  /** The histories it writes: test/replay/histories/<file>.json. */
  files: string[];
  /** Needs the seeded Cassandra ring (the others run after it is removed: its PDB would hold their drains). */
  ring?: boolean;
  /** Runs on a stack of its own, 2 groups × 2 nodes (general, batch) and the sim's fleet file, not on the 2 × 4 one the others share. */
  small?: boolean;
  run(ctx: Ctx): Promise<Recorded[]>;
}
interface Recorded {
  file: string;
  workflowId: string;
  runId?: string;
  /** Key material the run handled: the recorder refuses a history that contains any of it. */
  secrets?: string[];
}

const log = (line: string) => process.stderr.write(`[record-histories] ${line}\n`);

/** A failed run's failure (type and message), asserting it failed. */
async function failureOf(p: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err, 'expected the workflow to fail, it completed');
  const cause = (err as { cause?: { type?: string; message: string } }).cause;
  assert.ok(cause, `expected a workflow failure with a cause, got ${String(err)}`);
  return cause;
}

/**
 * Repave a node of general other than general-2..4 (the next scenarios' nodes): general-1, or its replacement when
 * an earlier scenario repaved it. Returns once the run has completed.
 */
async function repaveSpareGeneralNode(stack: Stack) {
  const node = (await nodesOfGroup(stack.core, 'general')).map((n) => n.metadata!.name!).find((n) => !/-general-[234]$/.test(n));
  assert.ok(node, 'a node of general besides general-2..4');
  const workflowId = repaveNodeWorkflowId(CLUSTER, node);
  const handle = await stack.client.workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: CLUSTER, node, reason: 'record-histories' }] });
  assert.equal((await handle.result()).node, node);
  return { handle, workflowId };
}

const scenarios: Scenario[] = [
  {
    name: 'decommissionMember-operator-answer',
    files: ['decommissionMember-operator-answer'],
    ring: true,
    // test/e2e/decommission-member.e2e.test.ts, "streaming fails part-way": stuck, operator restarts the pod, answers keepWaiting
    // (the frame's answer update), re-issued, done. decommissionMember-operator-keep-waiting.json is the same run recorded
    // before the runbook frame, answered with the keepWaiting signal.
    async run({ stack }) {
      const NS = 'data';
      const STS = 'cassandra';
      const MEMBER = 'cassandra-3';
      const core = stack.admin.makeApiClient(k8s.CoreV1Api);
      const member = () => stack.sim.cassandra.ring(NS, STS)?.members.find((m) => m.pod === MEMBER && !m.replaced);
      await eventually('a healthy ring of 4', async () => {
        const live = stack.sim.cassandra.ring(NS, STS)?.members.filter((m) => m.inRing) ?? [];
        return live.length === 4 && live.every((m) => m.state === 'Up' && m.mode === 'NORMAL');
      });
      const memberId = member()!.hostId;
      stack.sim.cassandra.faults.decommissionStreamMs = 3000;
      stack.sim.cassandra.faults.failNextDecommission = 1;
      stack.sim.cassandra.faults.decommissionFailAt = 0.5;
      const workflowId = decommissionWorkflowId(CLUSTER, NS, STS);
      const handle = await stack.client.workflow.start(decommissionMember, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ cluster: CLUSTER, namespace: NS, statefulSet: STS, member: MEMBER, releaseVolume: true, notStreamingAfter: '5s' }],
      });
      await eventually('the run stuck on the failed stream', async () => (await handle.query(progressQueryOf<DecommissionProgress>())).phase === 'stuck', 90_000, 200);
      await core.deleteNamespacedPod({ name: MEMBER, namespace: NS });
      await eventually('the member NORMAL and Up again after its restart', async () => {
        const m = member();
        return m?.hostId === memberId && m.mode === 'NORMAL' && m.state === 'Up' && m.inRing;
      }, 60_000, 200);
      const answered = await handle.executeUpdate(answerUpdate, { args: [{ option: 'keepWaiting', by: 'record-histories', note: 'restarted it' }] });
      assert.deepEqual(answered, { questionId: 'stuck-1', option: 'keepWaiting' });
      const result = await handle.result();
      assert.equal(result.issued, 2, 'decommission issued twice (once more after keepWaiting)');
      assert.equal(result.replicasAfter, 3);
      assert.equal(result.volume, 'released');
      return [{ file: 'decommissionMember-operator-answer', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  {
    name: 'repaveNode-completed',
    files: ['repaveNode-completed'],
    async run({ stack }) {
      const node = `${CLUSTER}-general-1`;
      const workflowId = repaveNodeWorkflowId(CLUSTER, node);
      const handle = await stack.client.workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: CLUSTER, node, reason: 'record-histories' }] });
      const result = await handle.result();
      assert.equal(result.node, node);
      assert.ok(!(await nodesOfGroup(stack.core, 'general')).some((n) => n.metadata?.name === node), `${node} still in the group`);
      return [{ file: 'repaveNode-completed', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  {
    name: 'repaveNode-folded-steps',
    files: ['repaveNode-folded-steps'],
    // Recorded at the patch repave-folded-steps: back-to-back steps as one activity each (src/activities/repave-steps.ts).
    async run({ stack }) {
      const { handle, workflowId } = await repaveSpareGeneralNode(stack);
      // local or not (repave-local-preflight), in the order they ran
      const ran = ((await handle.fetchHistory()).events ?? []).flatMap((e) => localActivityOf(e)?.type ?? e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      assert.deepEqual(ran, ['preflightNode', 'resolveImage', 'claimNode', 'launchReplacement', 'waitForReplacement', 'cordonAndDrain', 'retireNode']);
      return [{ file: 'repaveNode-folded-steps', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  {
    name: 'repaveNode-local-preflight',
    files: ['repaveNode-local-preflight'],
    // Recorded at the patch repave-local-preflight: the preflight, the image's resolution and the claim as local activities.
    async run({ stack }) {
      const { handle, workflowId } = await repaveSpareGeneralNode(stack);
      const events = (await handle.fetchHistory()).events ?? [];
      assert.deepEqual(events.flatMap((e) => localActivityOf(e)?.type ?? []), ['preflightNode', 'resolveImage', 'claimNode']);
      assert.deepEqual(events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []), ['launchReplacement', 'waitForReplacement', 'cordonAndDrain', 'retireNode']);
      return [{ file: 'repaveNode-local-preflight', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  {
    name: 'repaveNode-replacement-never-ready',
    files: ['repaveNode-replacement-never-ready'],
    // Phase-1 compensation by timeout: the replacement never gets Ready within readyTimeout, it is terminated, the node released.
    async run({ stack }) {
      const node = `${CLUSTER}-general-2`;
      const workflowId = repaveNodeWorkflowId(CLUSTER, node);
      stack.sim.oci.faults.neverReady = 1;
      const handle = await stack.client.workflow.start(repaveNode, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ cluster: CLUSTER, node, reason: 'record-histories', readyTimeout: '8s' }],
      });
      const failure = await failureOf(handle.result());
      assert.equal(failure.type, 'Failed');
      assert.match(failure.message, /did not become operational/);
      await assertActivities(handle, ['terminateInstance', 'releaseNode'], ['cordonNode']);
      return [{ file: 'repaveNode-replacement-never-ready', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  {
    name: 'repaveNode-aborted-waiting-for-replacement',
    files: ['repaveNode-aborted-waiting-for-replacement'],
    // Phase-1 compensation by the operator: abort while the (never Ready) replacement is awaited; the wait is cancelled.
    async run({ stack }) {
      const node = `${CLUSTER}-general-3`;
      const workflowId = repaveNodeWorkflowId(CLUSTER, node);
      stack.sim.oci.faults.neverReady = 1;
      const handle = await stack.client.workflow.start(repaveNode, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ cluster: CLUSTER, node, reason: 'record-histories', readyTimeout: '10m' }],
      });
      await eventually('waiting for the replacement', async () => (await handle.query(progressQueryOf<RepaveProgress>())).phase === 'waiting-for-replacement', 60_000, 100);
      await new Promise((r) => setTimeout(r, 1500)); // the wait activity has started
      await handle.signal(abortSignal, 'record-histories: operator abort');
      const failure = await failureOf(handle.result());
      assert.equal(failure.type, 'Aborted');
      assert.match(failure.message, /aborted by operator: record-histories: operator abort/);
      await assertActivities(handle, ['terminateInstance', 'releaseNode'], ['cordonNode']);
      assert.equal(stack.sim.oci.faults.neverReady, 0);
      return [{ file: 'repaveNode-aborted-waiting-for-replacement', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  {
    name: 'repaveNode-aborted-mid-launch',
    files: ['repaveNode-aborted-mid-launch'],
    // Abort while OCI is still answering the launch (launchResponseDelayMs): the abort waits for the launch to end,
    // and the instance it created is terminated (the terminate-unconfirmed-launch patch).
    async run({ stack }) {
      const node = `${CLUSTER}-general-4`;
      const workflowId = repaveNodeWorkflowId(CLUSTER, node);
      const launchesBefore = stack.sim.oci.counters().launches;
      stack.sim.oci.faults.launchResponseDelayMs = 3000;
      try {
        const handle = await stack.client.workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: CLUSTER, node, reason: 'record-histories' }] });
        await eventually('the replacement instance created', async () => stack.sim.oci.counters().launches > launchesBefore, 30_000, 50);
        await handle.signal(abortSignal, 'record-histories: abort mid-launch');
        const failure = await failureOf(handle.result());
        assert.equal(failure.type, 'Aborted');
        await assertActivities(handle, ['launchReplacement', 'terminateInstance', 'releaseNode'], ['cordonNode']);
        const history = await handle.fetchHistory();
        assert.ok((history.events ?? []).some((e) => e.markerRecordedEventAttributes), 'no patch marker recorded');
        return [{ file: 'repaveNode-aborted-mid-launch', workflowId, runId: handle.firstExecutionRunId }];
      } finally {
        stack.sim.oci.faults.launchResponseDelayMs = 0;
      }
    },
  },
  {
    name: 'repaverLane-continue-as-new',
    files: ['sweepNodeGroup-start-lane', 'repaverLane-continue-as-new-run1', 'repaverLane-continue-as-new-run2'],
    // The lane started as its Schedule starts it (a sweepNodeGroup run signal-with-starts it), a setPace update,
    // one child repave per run, and continue-as-new after two sweeps (sweepsPerRun): run 1 and run 2 (which
    // started from the carried state) both end in ContinueAsNew.
    async run({ stack }) {
      const group = 'batch';
      const laneId = repaverLaneWorkflowId(CLUSTER, group);
      const sweepId = `${sweepNodeGroupWorkflowId(CLUSTER, group)}.record-histories`;
      const lane = { pace: { maxAge: '1h' }, sweepInterval: '2s', sweepsPerRun: 2, readyTimeout: '1m', failureBackoff: '2s' };
      const sweep = await stack.client.workflow.start(sweepNodeGroup, { taskQueue: TASK_QUEUE, workflowId: sweepId, args: [{ cluster: CLUSTER, group, lane }] });
      assert.deepEqual(await sweep.result(), { workflowId: laneId });
      const laneHandle = stack.client.workflow.getHandle(laneId);
      const run1 = (await laneHandle.describe()).runId;
      const first = stack.client.workflow.getHandle<typeof repaverLane>(laneId, run1);
      // The update is validated against the group's configuration, which the lane reads on its first sweep.
      await eventually('setPace accepted', async () => (await first.executeUpdate(setPaceUpdate, { args: [{ concurrency: 1 }] })).concurrency === 1, 30_000, 200);
      const run2 = await continuedAs(stack, laneId, run1);
      const run3 = await continuedAs(stack, laneId, run2);
      await stopLane(stack, laneId, run3);
      for (const runId of [run1, run2]) {
        const h = await stack.client.workflow.getHandle(laneId, runId).fetchHistory();
        const kinds = (h.events ?? []).map((e) => e.eventType);
        assert.ok((h.events ?? []).some((e) => e.workflowExecutionContinuedAsNewEventAttributes), `run ${runId} did not continue as new`);
        assert.ok((h.events ?? []).some((e) => e.childWorkflowExecutionCompletedEventAttributes), `run ${runId} completed no child repave (${kinds.length} events)`);
      }
      return [
        { file: 'sweepNodeGroup-start-lane', workflowId: sweepId, runId: sweep.firstExecutionRunId },
        { file: 'repaverLane-continue-as-new-run1', workflowId: laneId, runId: run1 },
        { file: 'repaverLane-continue-as-new-run2', workflowId: laneId, runId: run2 },
      ];
    },
  },
  {
    name: 'repaverLane-by-machine',
    files: ['repaverLane-by-machine-run1', 'repaverLane-by-machine-run2'],
    // The lane keyed by machine (patch lane-state-by-machine) on batch, whose nodes are named by private IP: started
    // by an unhealthy report on one node (signal-with-start), whose first repave fails (its replacement never turns
    // Ready) and is retried after the backoff; run 2 starts from the carried state and repaves on.
    async run({ stack }) {
      const group = 'batch';
      const laneId = repaverLaneWorkflowId(CLUSTER, group);
      const [target] = (await nodesOfGroup(stack.core, group)).map((n) => n.metadata!.name!).sort();
      assert.match(target!, /^10\.0\.\d+\.\d+$/, 'batch is named by private IP in the recording stack');
      stack.sim.oci.faults.neverReady = 1;
      const lane = { pace: { maxAge: '1h' }, sweepInterval: '2s', sweepsPerRun: 3, readyTimeout: '5s', failureBackoff: '2s' };
      await signalRepaverLane(stack.client, { cluster: CLUSTER, group, signal: 'reportUnhealthy', report: { node: target!, reason: 'record-histories: disk errors' }, lane });
      const run1 = (await stack.client.workflow.getHandle(laneId).describe()).runId;
      const run2 = await continuedAs(stack, laneId, run1);
      const run3 = await continuedAs(stack, laneId, run2);
      await stopLane(stack, laneId, run3);
      const events = async (runId: string) => (await stack.client.workflow.getHandle(laneId, runId).fetchHistory()).events ?? [];
      const [first, second] = [await events(run1), await events(run2)];
      for (const e of [first, second]) assert.ok(e.some((x) => x.markerRecordedEventAttributes?.markerName === 'core_patch'), 'no patch marker');
      assert.ok(first.some((x) => x.childWorkflowExecutionFailedEventAttributes), 'run 1: the first repave did not fail');
      assert.ok([...first, ...second].some((x) => x.childWorkflowExecutionCompletedEventAttributes), 'no repave completed');
      return [
        { file: 'repaverLane-by-machine-run1', workflowId: laneId, runId: run1 },
        { file: 'repaverLane-by-machine-run2', workflowId: laneId, runId: run2 },
      ];
    },
  },
  {
    name: 'nodeGroupManager-scale',
    files: ['nodeGroupManager-scale-up', 'nodeGroupManager-scale-down'],
    // Scale general 4 → 5 and back to 4 (the youngest goes: drained, deleted, terminated). Each run holds the
    // group's lane (signal-with-start); general's maxAge is 365d in the recorder's fleet, so the lane stays idle.
    async run({ stack }) {
      const group = 'general';
      const workflowId = nodeGroupManagerWorkflowId(CLUSTER, group);
      const before = (await nodesOfGroup(stack.core, group)).length;
      const up = await stack.client.workflow.start(nodeGroupManager, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: CLUSTER, group, action: 'scale', size: before + 1 }] });
      const upResult = await up.result();
      assert.equal(upResult.to, before + 1);
      assert.equal(upResult.launched.length, 1);
      const down = await stack.client.workflow.start(nodeGroupManager, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: CLUSTER, group, action: 'scale', size: before }] });
      const downResult = await down.result();
      assert.equal(downResult.to, before);
      assert.equal(downResult.removed.length, 1);
      assert.equal((await nodesOfGroup(stack.core, group)).length, before);
      const laneHandle = stack.client.workflow.getHandle(repaverLaneWorkflowId(CLUSTER, group));
      assert.deepEqual(((await laneHandle.query(laneStateQuery)) as LaneState).inFlight, []);
      await laneHandle.terminate('record-histories done');
      return [
        { file: 'nodeGroupManager-scale-up', workflowId, runId: up.firstExecutionRunId },
        { file: 'nodeGroupManager-scale-down', workflowId, runId: down.firstExecutionRunId },
      ];
    },
  },
  {
    name: 'nodeGroupManager-aborted',
    files: ['nodeGroupManager-aborted-while-launching'],
    // Abort while two new nodes boot (never Ready): the launches are cancelled, their instances terminated, the lane
    // released, and the run ends Aborted (the frame's undo-then-end, recorded with its patch marker).
    async run({ stack }) {
      const group = 'general';
      const workflowId = nodeGroupManagerWorkflowId(CLUSTER, group);
      const before = (await nodesOfGroup(stack.core, group)).length;
      stack.sim.oci.faults.neverReady = 2;
      const handle = await stack.client.workflow.start(nodeGroupManager, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ cluster: CLUSTER, group, action: 'scale', size: before + 2, readyTimeout: '10m' }],
      });
      await eventually('both new nodes launched', async () => {
        const p = await handle.query(progressQueryOf<NodeGroupManagerProgress>());
        return p.launched.length === 2 && p.launched.every((l) => l.instanceId);
      }, 60_000, 200);
      await new Promise((r) => setTimeout(r, 1500)); // the waits have started
      await handle.signal(abortSignal, 'record-histories: wrong group');
      const failure = await failureOf(handle.result());
      assert.equal(failure.type, 'Aborted');
      assert.match(failure.message, /^aborted by operator: record-histories: wrong group/);
      await assertActivities(handle, ['terminateInstance', 'releaseRepaverLane'], ['cordonNode']);
      const history = await handle.fetchHistory();
      assert.ok((history.events ?? []).some((e) => e.markerRecordedEventAttributes), 'no patch marker recorded');
      assert.equal((await nodesOfGroup(stack.core, group)).length, before);
      await stack.client.workflow.getHandle(repaverLaneWorkflowId(CLUSTER, group)).terminate('record-histories done');
      return [{ file: 'nodeGroupManager-aborted-while-launching', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  {
    name: 'nodeGroupManager-dedicated-subnets',
    files: ['nodeGroupManager-create-on-subnets', 'nodeGroupManager-delete-with-subnets'],
    // Group `dedicated` (2 nodes in AD-1 and AD-2, subnets of its own; see fleetForRecording): create makes its two
    // subnets, then its nodes; delete removes the nodes, then the subnets (the patch node-group-subnets).
    async run({ stack }) {
      const group = 'dedicated';
      const workflowId = nodeGroupManagerWorkflowId(CLUSTER, group);
      const subnets = () =>
        stack.sim.oci.network.listSubnets({ compartmentId: stack.sim.compartmentId }).filter((s) => s.freeformTags[TAG_NODE_GROUP] === group && s.lifecycleState !== 'TERMINATED');
      const create = await stack.client.workflow.start(nodeGroupManager, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: CLUSTER, group, action: 'create' }] });
      assert.equal((await create.result()).to, 2);
      assert.equal(subnets().length, 2);
      const del = await stack.client.workflow.start(nodeGroupManager, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: CLUSTER, group, action: 'delete' }] });
      assert.equal((await del.result()).to, 0);
      assert.deepEqual(subnets(), []);
      await assertActivities(del, ['deleteNodeGroupSubnets'], []);
      await stack.client.workflow.getHandle(repaverLaneWorkflowId(CLUSTER, group)).terminate('record-histories done');
      return [
        { file: 'nodeGroupManager-create-on-subnets', workflowId, runId: create.firstExecutionRunId },
        { file: 'nodeGroupManager-delete-with-subnets', workflowId, runId: del.firstExecutionRunId },
      ];
    },
  },
  canaryApproved('rolloutDeployment-canary-approved'), // recorded before the canary was held by the Deployment's strategy
  canaryApproved('rolloutDeployment-canary-held'),
  {
    name: 'rolloutDeployment-rolled-back',
    files: ['rolloutDeployment-rolled-back'],
    small: true,
    // test/e2e/rollout-deployment.e2e.test.ts: shop/api to an image whose pods crash-loop: undone to the previous revision's template.
    async run({ stack }) {
      const workflowId = rolloutDeploymentWorkflowId(CLUSTER, 'shop', 'api');
      stack.sim.kube.faults.crashLoopImages = [CRASH_LOOPING_IMAGE];
      try {
        const handle = await stack.client.workflow.start(rolloutDeployment, {
          taskQueue: TASK_QUEUE,
          workflowId,
          args: [{ cluster: CLUSTER, namespace: 'shop', deployment: 'api', images: { api: CRASH_LOOPING_IMAGE }, progressDeadline: '2m' }],
        });
        const failure = await failureOf(handle.result());
        assert.equal(failure.type, 'RolledBack');
        assert.match(failure.message, /rolled back to revision \d+'s template \(now revision \d+\): pod api-\S+ is CrashLoopBackOff/);
        assert.equal((await handle.query(progressQueryOf<DeploymentRolloutProgress>())).outcome, 'rolled-back');
        return [{ file: 'rolloutDeployment-rolled-back', workflowId, runId: handle.firstExecutionRunId }];
      } finally {
        stack.sim.kube.faults.crashLoopImages = [];
      }
    },
  },
  {
    name: 'rolloutNodeImage-promoted',
    files: ['rolloutNodeImage-promoted'],
    small: true,
    // test/e2e/rollout-node-image.e2e.test.ts: a new image promoted to prod in two waves (general, then batch), each moved
    // by its group's lane (started beforehand, as their Schedules would), soaked and gated.
    async run({ stack }) {
      const groups = ['general', 'batch'];
      await startLanes(stack, groups);
      const imageId = stack.sim.oci.fleet.addImage({ displayName: 'node-record-histories', freeformTags: { [TAG_IMAGE_CHANNEL]: 'dev' } }).id;
      const workflowId = rolloutNodeImageWorkflowId(CLUSTER, 'prod');
      const handle = await stack.client.workflow.start(rolloutNodeImage, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ cluster: CLUSTER, channel: 'prod', imageId, waves: groups.map((g) => ({ groups: [g], soak: '2s' })), waveTimeout: '2m' }],
      });
      const result = await handle.result();
      assert.equal(result.outcome, 'promoted');
      for (const group of groups) assert.deepEqual(new Set(Object.values(result.summary[group] ?? {})), new Set([imageId]), `${group}: ${JSON.stringify(result.summary[group])}`);
      assert.equal(stack.sim.oci.fleet.getImage(imageId).freeformTags[TAG_IMAGE_CHANNEL], 'prod');
      for (const group of groups) {
        const laneId = repaverLaneWorkflowId(CLUSTER, group);
        await stopLane(stack, laneId, (await stack.client.workflow.getHandle(laneId).describe()).runId);
      }
      return [{ file: 'rolloutNodeImage-promoted', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  rotation('client-ca'),
  rotation('secret-encryption'),
  rotation('client-ca', { file: 'rotateKeys-by-lane', lane: 'repaverLane-keyring-requirement' }),
  {
    name: 'checkKeyrings-held-rotation',
    files: ['checkKeyrings-starts-rotation', 'rotateKeys-holds-answered'],
    small: true,
    // test/e2e/rotate-keys.e2e.test.ts, the keyring check: run as its Schedule runs it, it finds a service-account key
    // expiring within 400d and starts a rotation that holds between phases; each hold is answered `continue` to the end.
    async run({ stack }) {
      const purpose = 'service-account';
      const DAY = 86_400_000;
      const before = stack.sim.keyrings.latest(purpose)!.active.keyId;
      const checkId = `${keyringCheckWorkflowId(CLUSTER)}.record-histories`;
      const check = await stack.client.workflow.start(checkKeyrings, {
        taskQueue: TASK_QUEUE,
        workflowId: checkId,
        args: [{ cluster: CLUSTER, purposes: [purpose], rotateEvery: 30 * DAY, expiringWithin: 400 * DAY, holdBetweenPhases: true }],
      });
      const workflowId = rotateKeysWorkflowId(CLUSTER, purpose);
      const checked = await check.result();
      assert.deepEqual(checked.started.map((s) => [s.purpose, s.workflowId]), [[purpose, workflowId]]);
      assert.match(checked.started[0]!.why, /^key \S+ expires .*, within 400d$/);
      const rotation = stack.client.workflow.getHandle<typeof rotateKeys>(workflowId);
      // publishing, spreading, promoting (a first rotation has nothing to withdraw)
      for (const id of ['hold-1', 'hold-2', 'hold-3']) {
        await eventually(`rotation holding at ${id}`, async () => (await rotation.query(progressQueryOf<RotateKeysProgress>())).question?.id === id, 120_000, 250);
        assert.deepEqual(await rotation.executeUpdate(answerUpdate, { args: [{ option: 'continue', by: 'record-histories' }] }), { questionId: id, option: 'continue' });
      }
      const result = await rotation.result();
      assert.equal(result.keyring.active.keyId, result.introduced?.keyId);
      assert.equal(result.keyring.retiring?.keyId, before);
      const secrets = keyMaterial(stack, purpose, [before, result.introduced!.keyId]);
      return [
        { file: 'checkKeyrings-starts-rotation', workflowId: checkId, runId: check.firstExecutionRunId },
        { file: 'rotateKeys-holds-answered', workflowId, runId: (await rotation.describe()).runId, secrets },
      ];
    },
  },
];

/** The run scheduled every activity in `present` and none in `absent`. */
async function assertActivities(handle: WorkflowHandle, present: string[], absent: string[]) {
  const history = await handle.fetchHistory();
  const scheduled = (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  for (const a of present) assert.ok(scheduled.includes(a), `${handle.workflowId}: expected activity ${a}, scheduled: ${scheduled.join(', ')}`);
  for (const a of absent) assert.ok(!scheduled.includes(a), `${handle.workflowId}: unexpected activity ${a}`);
}

/** Stop a lane's run: pause it (no new repave), let its repave in flight finish, terminate it. */
async function stopLane(stack: Stack, laneId: string, runId: string): Promise<void> {
  const last = stack.client.workflow.getHandle(laneId, runId);
  await last.signal(pauseSignal, 'record-histories done');
  await eventually('lane run idle', async () => ((await last.query(laneStateQuery)) as LaneState).inFlight.length === 0, 120_000, 500);
  await last.terminate('record-histories done');
}

/** Start the lanes of `groups` as their Schedules would (sweeping every 2s; no node is old enough to be aged); their run IDs by group. */
async function startLanes(stack: Stack, groups: string[]): Promise<Record<string, string>> {
  const runs: Record<string, string> = {};
  for (const group of groups) {
    const lane = { cluster: CLUSTER, group, pace: { maxAge: '365d' }, sweepInterval: '2s', readyTimeout: '30s', failureBackoff: '2s' };
    runs[group] = (await stack.client.workflow.start(repaverLane, { taskQueue: TASK_QUEUE, workflowId: repaverLaneWorkflowId(CLUSTER, group), args: [lane] })).firstExecutionRunId;
  }
  return runs;
}

/** Wait until run `runId` of `workflowId` continued as new; the new run's ID. */
async function continuedAs(stack: Stack, workflowId: string, runId: string): Promise<string> {
  const handle = stack.client.workflow.getHandle(workflowId, runId);
  await eventually(`${workflowId} run ${runId} continued as new`, async () => (await handle.describe()).status.name === 'CONTINUED_AS_NEW', 180_000, 500).catch(async (e: unknown) => {
    log(`lane state: ${JSON.stringify(await handle.query(laneStateQuery).catch((q: unknown) => String(q)))}`);
    throw e;
  });
  const history = await handle.fetchHistory();
  const can = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
  assert.ok(can?.newExecutionRunId, `${workflowId} run ${runId}: last event is not ContinueAsNew`);
  return can.newExecutionRunId;
}

/**
 * The sim's fleet file with general's maxAge raised to 365d (as test/e2e/node-group-manager.e2e.test.ts does): a
 * nodeGroupManager run signal-with-starts general's lane, which would otherwise repave the seeded, 41-day-old nodes
 * on its own. Written beside the original so that its relative paths resolve.
 */
function fleetForRecording(stack: Stack) {
  const doc = YAML.parse(readFileSync(stack.sim.fleetConfigPath, 'utf8')) as { clusters: { name: string; nodeGroups: Record<string, unknown>[] }[] };
  const groups = doc.clusters.find((c) => c.name === CLUSTER)!.nodeGroups;
  const general = groups.find((g) => g.name === 'general')!;
  general.maxAge = '365d';
  // A group on dedicated subnets (nodeGroupManager-dedicated-subnets): general's, in its first two placements' ADs.
  const placement = (general.placement as { availabilityDomain: string; faultDomain: string }[]).slice(0, 2).map(({ availabilityDomain, faultDomain }) => ({ availabilityDomain, faultDomain }));
  groups.push({ ...structuredClone(general), name: 'dedicated', size: 2, placement, subnets: {}, labels: { [LABEL_NODE_GROUP]: 'dedicated' } });
  const path = join(dirname(stack.sim.fleetConfigPath), 'fleet-record-histories.yaml');
  writeFileSync(path, YAML.stringify(doc));
  return loadFleetConfig(path);
}

/**
 * test/e2e/rotate-keys.e2e.test.ts: one full, unattended rotation of the sim's seeded keyring of `purpose` (introduce,
 * publish, repave all 4 nodes onto it, promote; secret-encryption also rewrites every Secret, two of them made here, under the new key).
 * Without `lane`, the rotation repaves the nodes itself (spreadBy: direct, what rotateKeys-client-ca and
 * rotateKeys-secret-encryption hold, recorded before the lanes spread). With it, both groups' lanes (started
 * beforehand, as their Schedules would) take the rotation's requirement (patch lane-keyring-requirements, asked in the
 * signal handler), repave their nodes for the keyring reason and are released; general's lane run is written to `lane`.
 */
function rotation(purpose: KeyPurpose, by: { file?: string; lane?: string } = {}): Scenario {
  const file = by.file ?? `rotateKeys-${purpose}`;
  return {
    name: file,
    files: by.lane ? [file, by.lane] : [file],
    small: true,
    async run({ stack }) {
      if (purpose === 'secret-encryption') {
        const core = stack.admin.makeApiClient(k8s.CoreV1Api);
        for (const i of [1, 2]) await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: `record-histories-${i}` }, stringData: { password: `p${i}` } } });
      }
      const groups = ['general', 'batch'];
      const lanes = by.lane ? await startLanes(stack, groups) : {};
      const before = stack.sim.keyrings.latest(purpose)!.active.keyId;
      const workflowId = rotateKeysWorkflowId(CLUSTER, purpose);
      const spreadBy = by.lane ? 'lane' : 'direct';
      const handle = await stack.client.workflow.start(rotateKeys, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: CLUSTER, purpose, spreadBy }] });
      const result = await handle.result();
      assert.equal(result.keyring.active.keyId, result.introduced?.keyId);
      assert.equal(result.keyring.retiring?.keyId, before);
      assert.equal(result.nodesRepaved.length, 4);
      assert.equal(stack.sim.keyrings.running(purpose)?.version, result.keyring.version);
      if (purpose === 'secret-encryption') assert.ok(result.secretsRewritten! > 0, `rewrote ${result.secretsRewritten} Secrets`);
      const secrets = keyMaterial(stack, purpose, [before, result.introduced!.keyId]);
      const rotated = { file, workflowId, runId: handle.firstExecutionRunId, secrets };
      if (!by.lane) return [rotated];

      const events = (await handle.fetchHistory()).events ?? [];
      assert.ok(patchesOf(events).includes(PATCH_SPREAD_BY_LANE), `${workflowId}: no ${PATCH_SPREAD_BY_LANE} marker`);
      assert.ok(!events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes), 'the rotation started repaves of its own');
      for (const group of groups) {
        const laneId = repaverLaneWorkflowId(CLUSTER, group);
        const run = stack.client.workflow.getHandle<typeof repaverLane>(laneId, lanes[group]);
        // The requirement was taken and released by the run started here (no continue-as-new in between).
        assert.equal((await stack.client.workflow.getHandle(laneId).describe()).runId, lanes[group], `${laneId} continued as new during the rotation`);
        const state = await run.query(laneStateQuery);
        assert.equal(state.keyrings, undefined, `${laneId} still holds a keyring requirement`);
        const changes = state.history.filter((e) => e.outcome === 'keyring').map((e) => e.reason);
        const version = / keyring v(\d+) or later$/.exec(changes[0] ?? '')?.[1]; // the introduced key's (promoting made the next)
        assert.deepEqual(changes, [`${workflowId} requires every node to hold ${purpose} keyring v${version} or later`, `${workflowId} released the ${purpose} keyring v${version} requirement`]);
        assert.equal(state.history.filter((e) => e.outcome === 'replaced' && e.reason.includes('keyring: holds')).length, 2, `${laneId}: ${JSON.stringify(state.history)}`);
        await stopLane(stack, laneId, lanes[group]!);
        assert.ok(patchesOf((await run.fetchHistory()).events ?? []).includes(PATCH_LANE_KEYRINGS), `${laneId}: no ${PATCH_LANE_KEYRINGS} marker`);
      }
      return [rotated, { file: by.lane, workflowId: repaverLaneWorkflowId(CLUSTER, 'general'), runId: lanes.general, secrets }];
    },
  };
}

/** The IDs of the patches a run recorded (its core_patch markers), in order. */
const patchesOf = (events: temporal.api.history.v1.IHistoryEvent[]) =>
  events.flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map((p) => (JSON.parse(Buffer.from(p.data!).toString()) as { id: string }).id);

/** Run `scenarios` on `stack` (then stop it) with a worker for `fleet`, and write their histories. */
async function recordOn(stack: Stack, fleet: (stack: Stack) => FleetConfig, scenarios: Scenario[], bundle: Awaited<ReturnType<typeof workflowBundle>>, recorded: { file: string; events: number; bytes: number }[]) {
  let worker: { stop(): Promise<void> } | undefined;
  try {
    worker = await runWorker(stack, fleet(stack));
    let ringRemoved = false;
    // The scenarios that need the ring first, then the ring goes (its PDB would hold the other drains).
    for (const s of [...scenarios.filter((c) => c.ring), ...scenarios.filter((c) => !c.ring)]) {
      if (!s.ring && !ringRemoved) {
        await removeCassandraRing(stack);
        ringRemoved = true;
      }
      const t0 = Date.now();
      log(`${s.name}: running`);
      const runs = await s.run({ stack });
      assert.deepEqual(runs.map((r) => r.file), s.files, `${s.name}: recorded other files than it declares`);
      for (const r of runs) {
        const history = await stack.client.workflow.getHandle(r.workflowId, r.runId).fetchHistory();
        const json = historyToJSON(history);
        // Histories carry key IDs and fingerprints, never a key: searched in the events as stored (payloads decoded from base64 in the JSON).
        const stored = historyBytes(history.events ?? []);
        for (const secret of ['PRIVATE KEY', ...(r.secrets ?? [])]) assert.ok(!stored.includes(secret), `${r.file}: key material in the history`);
        // The history replays against the code that produced it, or the recorder (not the test) is wrong.
        await Worker.runReplayHistory({ workflowBundle: bundle, replayName: 'record-histories' }, historyFromJSON(JSON.parse(json)), r.workflowId);
        writeFileSync(join(OUT_DIR, `${r.file}.json`), json);
        recorded.push({ file: `${r.file}.json`, events: history.events?.length ?? 0, bytes: json.length });
      }
      log(`${s.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
  } finally {
    await worker?.stop();
    await stack.stop();
  }
}

/** The key material of `keyIds` as the sim's vault holds it (a private key's first base64 line, a secret). */
function keyMaterial(stack: Stack, purpose: KeyPurpose, keyIds: string[]): string[] {
  const material = keyIds.flatMap((keyId) => {
    const doc = stack.sim.oci.vault.readCurrent(keySecretName(CLUSTER, purpose, keyId));
    assert.ok(doc, `no key ${keyId} in the vault`);
    const m = JSON.parse(doc.toString('utf8')) as { privateKeyPem?: string; secret?: string };
    return [m.privateKeyPem?.split('\n')[1], m.secret].filter((x): x is string => !!x);
  });
  assert.equal(material.length, keyIds.length, `${purpose}: one key or secret per key ID`);
  return material;
}

async function main() {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, list: { type: 'boolean' }, force: { type: 'boolean' } } });
  if (values.list) {
    for (const s of scenarios) process.stdout.write(`${s.name}\n`);
    return;
  }
  const only = values.only ?? [];
  const chosen = only.length ? scenarios.filter((s) => only.some((o) => s.name.includes(o))) : scenarios;
  if (chosen.length === 0) throw new Error(`no scenario matches --only ${only.join(', ')}; scenarios: ${scenarios.map((s) => s.name).join(', ')}`);
  // Recorded histories are what runs in flight look like: never replace one by accident.
  const existing = chosen.flatMap((s) => s.files).filter((f) => existsSync(join(OUT_DIR, `${f}.json`)));
  if (existing.length && !values.force) {
    throw new Error(
      `would overwrite ${existing.map((f) => `${f}.json`).join(', ')} in ${OUT_DIR}. Keep recorded histories: record a behaviour change ` +
        `under a new scenario name (README, "Changing a workflow safely"); --force replaces them (only once no run that reaches them can still be in flight)`,
    );
  }

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const bundle = await workflowBundle();
  mkdirSync(OUT_DIR, { recursive: true });
  const recorded: { file: string; events: number; bytes: number }[] = [];
  const shared = chosen.filter((c) => !c.small);
  const small = chosen.filter((c) => c.small);
  if (shared.length) {
    log('starting the stack (dev server, sim, worker)');
    await recordOn(await startStack({ backend: 'sim', nodeNaming: { batch: 'private-ip' } }), fleetForRecording, shared, bundle, recorded);
  }
  if (small.length) {
    log('starting the 2 × 2 stack (dev server, sim, worker)');
    await recordOn(await startStack({ backend: 'sim', fleetShape: { groups: 2, nodesPerGroup: 2 } }), (stack) => stack.fleet, small, bundle, recorded);
  }
  for (const r of recorded) process.stdout.write(`${r.file}: ${r.events} events, ${r.bytes} bytes\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);

/** test/e2e/rollout-deployment.e2e.test.ts: shop/web to a new image through a canary of 1 pod, soaked, approved (`continue`): rolled out. */
function canaryApproved(file: string): Scenario {
  return {
    name: file,
    files: [file],
    small: true,
    async run({ stack }) {
      const images = { web: 'registry.example.com/shop/web:1.9.0' };
      const workflowId = rolloutDeploymentWorkflowId(CLUSTER, 'shop', 'web');
      const handle = await stack.client.workflow.start(rolloutDeployment, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ cluster: CLUSTER, namespace: 'shop', deployment: 'web', images, canary: { replicas: 1, soak: '2s', approval: true } }],
      });
      const question = await eventually('the canary question', async () => (await handle.query(progressQueryOf<DeploymentRolloutProgress>())).question, 90_000, 500);
      const held = await stack.admin.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ namespace: 'shop', name: 'web' });
      assert.equal(held.status?.updatedReplicas, 1, 'the canary holds at 1 new replica');
      const answered = await handle.executeUpdate(answerUpdate, { args: [{ option: 'continue', by: 'record-histories' }] });
      assert.deepEqual(answered, { questionId: question.id, option: 'continue' });
      const result = await handle.result();
      assert.equal(result.outcome, 'rolled-out');
      assert.deepEqual(result.images, images);
      return [{ file, workflowId, runId: handle.firstExecutionRunId }];
    },
  };
}
