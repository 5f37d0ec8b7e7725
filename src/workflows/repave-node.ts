import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { RepaveActivities } from '../core/activity-contracts.js';
import { API_CALL, heartbeating } from './activity-options.js';
import { nodeLabelsFor, placementFor } from '../core/placement.js';
import {
  checkRepaveTarget,
  parseRepaveNodeInput,
  type RepaveNodeInput,
  type RepaveNodeResult,
  type RepavePhase,
  type RepaveProgress,
} from '../core/repave.js';
import { SA_CLUSTER, SA_NODE_GROUP, SA_PHASE, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const abortSignal = defineSignal<[reason?: string]>('abort');
export const progressQuery = defineQuery<RepaveProgress>('progress');

const api = proxyActivities<RepaveActivities>(API_CALL);
const longActivities = (timeoutMs: number) => proxyActivities<RepaveActivities>(heartbeating(timeoutMs));

/**
 * Repave one node, n+1: launch a replacement from the group's current image, wait until it is operational,
 * then cordon and drain the old node (PodDisruptionBudgets honoured), delete it and terminate its instance.
 */
export async function repaveNode(input: RepaveNodeInput): Promise<RepaveNodeResult> {
  const parsed = parseRepaveNodeInput(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(`invalid repaveNode input: ${parsed.message}`, 'InvalidInput');
  const req = parsed.value;
  const { cluster, node } = req;
  const owner = workflowInfo().workflowId;

  const progress: RepaveProgress = { cluster, node, phase: 'validating', paused: false, log: [] };
  let abortReason: string | undefined;
  let cancellable: CancellationScope | undefined;
  setHandler(progressQuery, () => progress);
  setHandler(pauseSignal, () => {
    progress.paused = true;
    note('paused by operator');
  });
  setHandler(resumeSignal, () => {
    progress.paused = false;
    note('resumed by operator');
  });
  setHandler(abortSignal, (reason) => {
    abortReason = reason?.slice(0, 200) || 'no reason given';
    progress.abortRequested = abortReason;
    note(`abort requested: ${abortReason}`);
    cancellable?.cancel();
  });

  function note(message: string) {
    progress.log.push({ at: new Date().toISOString(), message });
    if (progress.log.length > 50) progress.log.shift();
    log.info(message, { cluster, node });
  }

  function enter(phase: RepavePhase) {
    progress.phase = phase;
    upsertSearchAttributes([{ key: SA_PHASE, value: phase }]);
    setCurrentDetails(`**${phase}** — repave ${node} (${cluster})${progress.replacement ? `, replacement ${progress.replacement.nodeName}` : ''}`);
  }

  /** Step boundary: hold while paused, stop if aborted. */
  async function gate(phase: RepavePhase) {
    await condition(() => !progress.paused || abortReason !== undefined);
    if (abortReason !== undefined) throw ApplicationFailure.nonRetryable(`aborted by operator: ${abortReason}`, 'Aborted');
    enter(phase);
  }

  /** Run a step the abort signal may interrupt. */
  async function interruptible<T>(fn: () => Promise<T>): Promise<T> {
    cancellable = new CancellationScope();
    try {
      return await cancellable.run(fn);
    } catch (e) {
      if (abortReason !== undefined && isCancellation(e)) throw ApplicationFailure.nonRetryable(`aborted by operator: ${abortReason}`, 'Aborted');
      throw e;
    } finally {
      cancellable = undefined;
    }
  }

  upsertSearchAttributes([
    { key: SA_CLUSTER, value: cluster },
    { key: SA_RUNBOOK, value: 'repaveNode' },
    { key: SA_TARGET, value: node },
  ]);
  enter('validating');

  // Preflight: everything is read, nothing is changed, until the target is known to be safe to repave.
  const facts = await api.inspectNode({ cluster, node });
  const group = facts.nodeGroup ? await api.describeNodeGroup({ cluster, nodeGroup: facts.nodeGroup }) : undefined;
  const decision = checkRepaveTarget({ ...facts, cluster, node, group }, req);
  if (!decision.ok) return refuse(`${decision.field}: ${decision.message}`);
  if (!group || !facts.instanceId) return refuse('node: no node group or instance'); // narrowed by checkRepaveTarget
  const old = await api.describeInstance({ cluster, instanceId: facts.instanceId });
  if (!old || old.lifecycleState !== 'RUNNING') {
    return refuse(`node: instance ${facts.instanceId} of node ${node} is ${old?.lifecycleState ?? 'gone'}, not RUNNING`);
  }
  progress.nodeGroup = group.name;
  progress.oldInstanceId = old.id;
  upsertSearchAttributes([{ key: SA_NODE_GROUP, value: group.name }]);
  const image = await api.resolveImage({ cluster, compartmentId: old.compartmentId, image: group.image });
  try {
    await api.claimNode({ cluster, node, owner });
  } catch (e) {
    return refuse(`node: ${rootMessage(e)}`);
  }
  note(`repaving ${node} (${old.id}) of group ${group.name} because: ${req.reason}; image ${image.displayName}`);

  const place = placementFor(group, old);
  const replacementName = `${group.name}-${uuid4().slice(0, 8)}`;
  const retryToken = uuid4();
  progress.replacement = { nodeName: replacementName, ready: false };
  let replacementId: string | undefined;

  // Phase 1: launch the replacement and wait until it serves. Failure here leaves the old node untouched.
  try {
    await gate('launching-replacement');
    const launched = await interruptible(() =>
      api.launchReplacement({
        cluster,
        nodeGroup: group.name,
        replaces: node,
        displayName: replacementName,
        retryToken,
        compartmentId: old.compartmentId,
        availabilityDomain: place.availabilityDomain,
        faultDomain: place.faultDomain,
        subnetId: place.subnetId,
        shape: group.shape,
        shapeConfig: old.shape === group.shape ? old.shapeConfig : undefined,
        imageId: image.imageId,
        nodeLabels: nodeLabelsFor(cluster, group),
        nodeTaints: group.taints,
      }),
    );
    replacementId = launched.instanceId;
    progress.replacement.instanceId = replacementId;
    note(`${launched.created ? 'launched' : 'found earlier launch of'} replacement ${replacementName} (${replacementId}) in ${place.availabilityDomain}/${place.faultDomain}`);

    await gate('waiting-for-replacement');
    const deadline = Date.now() + req.readyTimeout;
    const waits = longActivities(req.readyTimeout);
    await interruptible(() => waits.waitForInstanceRunning({ cluster, instanceId: launched.instanceId, deadline }));
    await interruptible(() => waits.waitForNodeOperational({ cluster, node: replacementName, deadline }));
    progress.replacement.ready = true;
    note(`replacement ${replacementName} is Ready and runs its DaemonSet pods`);
  } catch (e) {
    await compensate(async () => {
      if (replacementId) {
        await api.terminateInstance({ cluster, instanceId: replacementId });
        note(`terminated replacement ${replacementId} that never became operational`);
      }
    });
    return fail(e, `replacement for ${node} did not become operational; ${node} is left serving`);
  }

  // Phase 2: move the workload. Failure here uncordons the old node; the Ready replacement keeps serving.
  let evictedPods = 0;
  try {
    await gate('cordoning');
    await api.cordonNode({ cluster, node });
    await gate('draining');
    const deadline = Date.now() + req.drainTimeout;
    const drained = await interruptible(() =>
      longActivities(req.drainTimeout).drainNode({
        cluster,
        node,
        deadline,
        evictUnmanagedPods: req.evictUnmanagedPods,
        deletePodsBlockedByPdbAfterTimeout: req.deletePodsBlockedByPdbAfterTimeout,
      }),
    );
    evictedPods = drained.evicted.length + drained.deletedAfterTimeout.length;
    progress.drain = { evicted: evictedPods, remaining: 0, blockedByPdb: [] };
    note(`drained ${node}: ${drained.evicted.length} pods evicted, ${drained.deletedAfterTimeout.length} deleted after the timeout`);
  } catch (e) {
    await compensate(async () => {
      await api.uncordonNode({ cluster, node });
      note(`uncordoned ${node}; replacement ${replacementName} stays in service`);
    });
    return fail(e, `drain of ${node} did not complete; it is uncordoned and serving beside its replacement ${replacementName}`);
  }

  // Phase 3: the old node is empty; past this point there is nothing to undo, only to finish.
  enter('deleting-node');
  await api.deleteNode({ cluster, node });
  enter('terminating-instance');
  await api.terminateInstance({ cluster, instanceId: old.id });
  enter('done');
  note(`${node} replaced by ${replacementName}`);
  return { node, replacement: { nodeName: replacementName, instanceId: replacementId }, oldInstanceId: old.id, evictedPods };

  function refuse(message: string): never {
    progress.phase = 'failed';
    progress.error = message;
    upsertSearchAttributes([{ key: SA_PHASE, value: 'refused' }]);
    throw ApplicationFailure.nonRetryable(`refused to repave ${node}: ${message}`, 'InvalidTarget');
  }

  /** Undo what can be undone, whatever cancelled us, then release the node. */
  async function compensate(undo: () => Promise<void>) {
    progress.phase = 'compensating';
    await CancellationScope.nonCancellable(async () => {
      await undo();
      await api.releaseNode({ cluster, node, owner });
    });
  }

  function fail(e: unknown, outcome: string): never {
    const aborted = abortReason !== undefined;
    enter(aborted ? 'aborted' : 'failed');
    const cause = e instanceof ApplicationFailure && e.type === 'Aborted' ? e.message : rootMessage(e);
    progress.error = `${outcome}: ${cause}`;
    throw ApplicationFailure.nonRetryable(progress.error, aborted ? 'Aborted' : 'RepaveFailed');
  }
}

function rootMessage(e: unknown): string {
  let cur = e as { message?: string; cause?: unknown } | undefined;
  while (cur?.cause) cur = cur.cause as typeof cur;
  return cur?.message ?? String(e);
}
