import { patched, proxyActivities, proxyLocalActivities, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { RepaveActivities } from '../core/activity-contracts.js';
import { API_CALL, heartbeating, LAUNCH, LOCAL_API_CALL, PATCH_IN_PLACE_REPAVE, PATCH_REPAVE_FOLDED_STEPS, PATCH_REPAVE_LOCAL_PREFLIGHT, PATCH_TERMINATE_UNCONFIRMED_LAUNCH } from './activity-options.js';
import { nodeLabelsFor, placementFor } from '../core/placement.js';
import { checkRepaveTarget, parseRepaveNodeInput, type RepaveNodeInput, type RepaveNodeResult, type RepaveProgress } from '../core/repave.js';
import { rootMessage } from '../core/runbook.js';
import { SA_CLUSTER, SA_NODE_GROUP, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';
import { invalidInput, startRunbook } from './runbook.js';

const api = proxyActivities<RepaveActivities>(API_CALL);
const local = proxyLocalActivities<RepaveActivities>(LOCAL_API_CALL);
const launching = proxyActivities<RepaveActivities>(LAUNCH);
const longActivities = (timeoutMs: number) => proxyActivities<RepaveActivities>(heartbeating(timeoutMs));

/**
 * Repave one node, n+1: launch a replacement from the group's desired image (or its configured one), wait until it is operational,
 * then cordon and drain the old node (PodDisruptionBudgets honoured), delete it and terminate its instance.
 * A group with maxSurge 0 and allowInPlace is repaved drain-first: cordon, drain, delete, terminate, launch.
 */
export async function repaveNode(input: RepaveNodeInput): Promise<RepaveNodeResult> {
  const parsed = parseRepaveNodeInput(input);
  if (!parsed.ok) throw invalidInput('repaveNode', parsed.message);
  const req = parsed.value;
  const { cluster, node } = req;
  const owner = workflowInfo().workflowId;
  /** What the operator is left with if the run fails from here on. */
  let leftWith = `${node} was not changed`;

  const rb = startRunbook<RepaveProgress>({
    progress: { runbook: 'repaveNode', cluster, target: node, node, phase: 'validating' },
    searchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_RUNBOOK, value: 'repaveNode' },
      { key: SA_TARGET, value: node },
    ],
    details: (p) => `**${p.phase}** — repave ${node} (${cluster})${p.replacement ? `, replacement ${p.replacement.nodeName}` : ''}`,
    refusing: `repave ${node}`,
    aftermath: () => leftWith,
    logFields: { cluster, node },
  });
  const { progress } = rb;

  return rb.run(async () => {
    // Preflight: everything is read, nothing is changed, until the target is known to be safe to repave.
    // Steps that always follow each other are one activity each in new runs: fewer workflow tasks and history events.
    const folded = patched(PATCH_REPAVE_FOLDED_STEPS);
    // The reads and the claim that open a repave are short: in new runs the worker runs them within the workflow task.
    const opening = folded && patched(PATCH_REPAVE_LOCAL_PREFLIGHT) ? local : api;
    const preflight = folded ? await opening.preflightNode({ cluster, node }) : undefined;
    const facts = preflight?.facts ?? (await api.inspectNode({ cluster, node }));
    const group = preflight ? preflight.group : facts.nodeGroup ? await api.describeNodeGroup({ cluster, nodeGroup: facts.nodeGroup }) : undefined;
    const decision = checkRepaveTarget({ ...facts, cluster, node, group }, req);
    if (!decision.ok) return rb.refuse(`${decision.field}: ${decision.message}`);
    if (!group || !facts.instanceId) return rb.refuse('node: no node group or instance'); // narrowed by checkRepaveTarget
    const old = preflight ? preflight.instance : await api.describeInstance({ cluster, instanceId: facts.instanceId });
    if (!old || old.lifecycleState !== 'RUNNING') {
      return rb.refuse(`node: instance ${facts.instanceId} of node ${node} is ${old?.lifecycleState ?? 'gone'}, not RUNNING`);
    }
    progress.nodeGroup = group.name;
    progress.oldInstanceId = old.id;
    if (folded) rb.upsertWithNextPhase([{ key: SA_NODE_GROUP, value: group.name }]);
    else upsertSearchAttributes([{ key: SA_NODE_GROUP, value: group.name }]);
    const image = await opening.resolveImage({ cluster, compartmentId: old.compartmentId, image: req.imageId ? { id: req.imageId } : group.image });
    try {
      await opening.claimNode({ cluster, node, owner });
    } catch (e) {
      return rb.refuse(`node: ${rootMessage(e)}`);
    }
    rb.onFailure(() => api.releaseNode({ cluster, node, owner }));
    rb.note(`repaving ${node} (${old.id}) of group ${group.name} because: ${req.reason}; image ${image.displayName}`);

    const place = placementFor(group, old);
    const replacementName = `${group.name}-${uuid4().slice(0, 8)}`;
    const retryToken = uuid4();
    const replacement: NonNullable<RepaveProgress['replacement']> = { nodeName: replacementName, ready: false };
    // A group without surge that allows it is repaved drain-first; the preflight counted the node missing.
    const inPlace = decision.inPlace && patched(PATCH_IN_PLACE_REPAVE);
    if (inPlace) progress.inPlace = true;

    /** Launch the replacement and wait until it serves; a replacement that never does is terminated. */
    const launchReplacement = async (): Promise<string> => {
      progress.replacement = replacement;
      let launchSent = false;
      const forgetReplacement = rb.onFailure(async () => {
        if (replacement.instanceId) {
          await api.terminateInstance({ cluster, instanceId: replacement.instanceId });
          rb.note(`terminated replacement ${replacement.instanceId} that never became operational`);
        } else if (launchSent && patched(PATCH_TERMINATE_UNCONFIRMED_LAUNCH)) {
          // Stopped mid-launch: OCI may have created the instance all the same. Find it by name and tag.
          const { terminated } = await api.terminateLaunched({ cluster, compartmentId: old.compartmentId, displayName: replacementName, replaces: node });
          if (terminated.length) rb.note(`terminated ${terminated.join(', ')}, launched as ${replacementName} although the launch never answered`);
        }
      });
      await rb.gate('launching-replacement');
      const launch = patched(PATCH_TERMINATE_UNCONFIRMED_LAUNCH) ? launching : api;
      launchSent = true;
      const launched = await rb.interruptible(() =>
        launch.launchReplacement({
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
      replacement.instanceId = launched.instanceId;
      rb.note(`${launched.created ? 'launched' : 'found earlier launch of'} replacement ${replacementName} (${launched.instanceId}) in ${place.availabilityDomain}/${place.faultDomain}`);

      await rb.gate('waiting-for-replacement');
      const readyBy = Date.now() + req.readyTimeout;
      const waits = longActivities(req.readyTimeout);
      // The replacement's node is the one whose providerID names its instance: it may be named by IP or hostname.
      const ofInstance = { cluster, instanceId: launched.instanceId, node: replacementName, deadline: readyBy };
      let operational: { node: string };
      if (folded) {
        operational = await rb.interruptible(() => waits.waitForReplacement(ofInstance));
      } else {
        await rb.interruptible(() => waits.waitForInstanceRunning({ cluster, instanceId: launched.instanceId, deadline: readyBy }));
        operational = await rb.interruptible(() => waits.waitForNodeOperational(ofInstance));
      }
      replacement.nodeName = operational.node;
      replacement.ready = true;
      forgetReplacement();
      rb.note(`replacement ${replacement.nodeName} is Ready and runs its DaemonSet pods`);
      return launched.instanceId;
    };

    /** Cordon and drain the old node; a drain that does not complete uncordons it. */
    const moveWorkload = async (): Promise<number> => {
      const forgetCordon = rb.onFailure(async () => {
        await api.uncordonNode({ cluster, node });
        rb.note(inPlace || req.retireOnly ? `uncordoned ${node}; nothing was launched` : `uncordoned ${node}; replacement ${replacement.nodeName} stays in service`);
      });
      if (!folded) {
        await rb.gate('cordoning');
        await api.cordonNode({ cluster, node });
      }
      await rb.gate('draining');
      const drainBy = Date.now() + req.drainTimeout;
      const drain = {
        cluster,
        node,
        deadline: drainBy,
        evictUnmanagedPods: req.evictUnmanagedPods,
        deletePodsBlockedByPdbAfterTimeout: req.deletePodsBlockedByPdbAfterTimeout,
      };
      const draining = longActivities(req.drainTimeout);
      const drained = await rb.interruptible(() => (folded ? draining.cordonAndDrain(drain) : draining.drainNode(drain)));
      const evictedPods = drained.evicted.length + drained.deletedAfterTimeout.length;
      progress.drain = { evicted: evictedPods, remaining: 0, blockedByPdb: [] };
      forgetCordon();
      rb.note(`drained ${node}: ${drained.evicted.length} pods evicted, ${drained.deletedAfterTimeout.length} deleted after the timeout`);
      return evictedPods;
    };

    /** The old node is empty: delete it and terminate its instance. Nothing to undo, only to finish. */
    const retireOldNode = async () => {
      rb.enter('deleting-node');
      if (folded) {
        await api.retireNode({ cluster, node, instanceId: old.id });
        return;
      }
      await api.deleteNode({ cluster, node, instanceId: old.id });
      rb.enter('terminating-instance');
      await api.terminateInstance({ cluster, instanceId: old.id });
    };

    if (req.retireOnly) {
      // The group is above its size: this node goes without a replacement, drain-first.
      progress.retireOnly = true;
      leftWith = `the drain of ${node} did not complete; it is uncordoned and serving`;
      const evictedPods = await moveWorkload();
      leftWith = `${node} is drained: finish by deleting it and terminating ${old.id}`;
      await retireOldNode();
      rb.done(`${node} retired without a replacement: group ${group.name} had ${facts.groupReady} Ready nodes for a size of ${group.size}`);
      return { node, oldInstanceId: old.id, evictedPods };
    }
    let replacementId: string;
    let evictedPods: number;
    if (inPlace) {
      // Drain-first (maxSurge 0, allowInPlace): the group runs one node short until the replacement serves.
      leftWith = `the drain of ${node} did not complete; it is uncordoned and serving, nothing was launched`;
      evictedPods = await moveWorkload();
      leftWith = `${node} is drained: finish by deleting it and terminating ${old.id}, then launch a node for group ${group.name}`;
      await retireOldNode();
      rb.note(`retired ${node} (${old.id}); group ${group.name} is one node short until ${replacementName} serves`);
      leftWith = `${node} was retired and its replacement ${replacementName} did not become operational (terminated): group ${group.name} is one node short; scale it back (nodeGroupManager) or let its lane repave`;
      replacementId = await launchReplacement();
    } else {
      // n+1: a failure before the drain leaves the old node untouched; after it, the Ready replacement keeps serving.
      leftWith = `the replacement was terminated and ${node} is left serving`;
      replacementId = await launchReplacement();
      leftWith = `the drain of ${node} did not complete; it is uncordoned and serving beside its replacement ${replacement.nodeName}`;
      evictedPods = await moveWorkload();
      leftWith = `${node} is drained and its replacement ${replacement.nodeName} serves: finish by deleting the node and terminating ${old.id}`;
      await retireOldNode();
    }
    rb.done(`${node} replaced by ${replacement.nodeName}${inPlace ? ' (in place: drained first)' : ''}`);
    return { node, replacement: { nodeName: replacement.nodeName, instanceId: replacementId }, oldInstanceId: old.id, evictedPods };
  });
}
