import { activityInfo, ApplicationFailure, Context, heartbeat, sleep } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ImageRolloutActivities, KeyringLaneActivities, NodeGroupActivities, NodeGroupRef } from '../core/activity-contracts.js';
import { KEY_PURPOSES, keyringAnnotation, parseHeldKeyring, type KeyPurpose } from '../core/keyring.js';
import { ANNOTATION_OWNER, LABEL_CLUSTER, LABEL_CONTROL_PLANE, LABEL_FAULT_DOMAIN, LABEL_NODE_GROUP, LABEL_ZONE } from '../core/labels.js';
import { repaverLaneWorkflowId } from '../core/ids.js';
import { instanceIdOfProviderID } from '../core/provider-id.js';
import {
  LANE_QUERY_STATE,
  LANE_SIGNAL_HOLD,
  LANE_SIGNAL_RELEASE,
  LANE_SIGNAL_REQUIRE_KEYRING,
  LANE_SIGNAL_SET_DESIRED_IMAGE,
  type DesiredImageRequest,
  type KeyringRequest,
  type LaneState,
  type NodeGroupObservation,
  type ObservedNode,
  observedConditionMatters,
} from '../core/lane/index.js';
import { signalRepaverLane } from '../client/schedules.js';
import type { ClientRegistry } from './clients.js';
import { statusOf } from './oci-errors.js';

export interface NodeGroupDeps {
  clients: ClientRegistry;
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
}

/** What never changes about an instance: when it was launched, and from which image. */
interface InstanceFacts {
  launched?: string;
  imageId?: string;
}

/** Unknown instances a sweep looks up one by one (a replacement or two while its group repaves); more: it lists. */
const LOOKUPS_BEFORE_LISTING = 10;
const FACTS_KEPT = 100_000;
/** An instance's image can change in place (a boot volume replaced by hand), so what is known is asked again after this. */
const FACTS_FOR_MS = 10 * 60_000;

/**
 * When each instance behind a group's nodes was launched, and from which image. A node's age is its machine's: the
 * Node object can be younger (a kubelet that re-registered after its Node was deleted), and an aged machine must not
 * pass for new because of that. The facts are kept a while: a sweep asks OCI only about instances it has not met
 * lately (listing the cluster's compartment when there are many), not for every instance of the compartment at every
 * sweep (1,000 instances per sweep per lane at 10 × 100 nodes).
 */
function instanceFactsOf(clients: ClientRegistry) {
  const known = new Map<string, { facts: InstanceFacts; at: number }>();
  const knownNow = (cluster: string, id: string) => {
    const k = known.get(`${cluster}/${id}`);
    return k && Date.now() - k.at < FACTS_FOR_MS ? k.facts : undefined;
  };
  const factsOf = (i: { timeCreated?: Date | string; imageId?: string }): InstanceFacts => ({
    ...(i.timeCreated ? { launched: new Date(i.timeCreated).toISOString() } : {}),
    ...(i.imageId ? { imageId: i.imageId } : {}),
  });
  const keep = (cluster: string, id: string, facts: InstanceFacts) => {
    if (known.size >= FACTS_KEPT) known.clear();
    known.set(`${cluster}/${id}`, { facts, at: Date.now() });
  };
  return async (cluster: string, compartmentId: string, instanceIds: string[]): Promise<Map<string, InstanceFacts>> => {
    const compute = clients.for(cluster).compute;
    const unknown = [...new Set(instanceIds)].filter((id) => !knownNow(cluster, id));
    if (unknown.length > LOOKUPS_BEFORE_LISTING) {
      for await (const i of compute.listInstancesRecordIterator({ compartmentId })) keep(cluster, i.id, factsOf(i));
    } else {
      await Promise.all(
        unknown.map(async (instanceId) => {
          try {
            keep(cluster, instanceId, factsOf((await compute.getInstance({ instanceId })).instance));
          } catch (e) {
            if (statusOf(e) !== 404) throw e; // gone: no facts, as when a list does not have it
          }
        }),
      );
    }
    return new Map(
      instanceIds.flatMap((id) => {
        const facts = knownNow(cluster, id);
        return facts ? [[id, facts] as const] : [];
      }),
    );
  };
}

/** Activities of the repaver lanes: the sweep (read-only), the lane's signal-with-start, and what rollouts ask of lanes. */
export function nodeGroupActivities({ clients, isWorkflowRunning }: NodeGroupDeps) {
  const instanceFacts = instanceFactsOf(clients);
  const laneState = async (cluster: string, nodeGroup: string): Promise<LaneState | undefined> => {
    try {
      return await Context.current().client.workflow.getHandle(repaverLaneWorkflowId(cluster, nodeGroup)).query<LaneState>(LANE_QUERY_STATE);
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return undefined;
      throw e;
    }
  };
  const acts = {
    async listNodeGroupNodes({ cluster, nodeGroup }: NodeGroupRef): Promise<NodeGroupObservation> {
      const { compartmentId } = clients.clusterConfig(cluster); // unknown cluster: non-retryable, with the known ones
      const list = await clients.for(cluster).core.listNode({ labelSelector: `${LABEL_NODE_GROUP}=${nodeGroup}` });
      const instances = await instanceFacts(cluster, compartmentId, list.items.flatMap((n) => instanceIdOfProviderID(n.spec?.providerID) ?? []));
      // Each owner's workflow asked about once, all at once (a group repaving B nodes has B owners).
      const owners = [...new Set(list.items.flatMap((n) => n.metadata?.annotations?.[ANNOTATION_OWNER] ?? []))];
      const liveness = new Map(owners.map((o) => [o, isWorkflowRunning(o)]));
      await Promise.all(liveness.values());
      const live = (owner: string) => liveness.get(owner)!;
      const nodes: ObservedNode[] = [];
      for (const n of list.items) {
        const labels = n.metadata?.labels ?? {};
        const cl = labels[LABEL_CLUSTER];
        if (cl !== undefined && cl !== cluster) continue;
        if (LABEL_CONTROL_PLANE in labels) continue;
        const conditions = (n.status?.conditions ?? []).filter(observedConditionMatters).map((c) => ({
          type: c.type,
          status: c.status,
          ...(c.lastTransitionTime ? { since: new Date(c.lastTransitionTime).toISOString() } : {}),
          ...(c.reason ? { reason: c.reason } : {}),
        }));
        const owner = n.metadata?.annotations?.[ANNOTATION_OWNER];
        const keyrings = keyringVersions(n.metadata?.annotations);
        const instanceId = instanceIdOfProviderID(n.spec?.providerID);
        const instance = instanceId ? instances.get(instanceId) : undefined;
        nodes.push({
          name: n.metadata?.name ?? '',
          createdAt: instance?.launched ?? new Date(n.metadata?.creationTimestamp ?? 0).toISOString(),
          ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          conditions,
          unschedulable: n.spec?.unschedulable ?? false,
          ...(labels[LABEL_FAULT_DOMAIN] ? { faultDomain: labels[LABEL_FAULT_DOMAIN] } : {}),
          ...(labels[LABEL_ZONE] ? { zone: labels[LABEL_ZONE] } : {}),
          ...(owner && (await live(owner)) ? { owner } : {}),
          ...(instanceId ? { instanceId } : {}),
          ...(n.metadata?.uid && !instanceId ? { uid: n.metadata.uid } : {}), // the machine's name when no instance is (machineOf)
          ...(instance?.imageId ? { imageId: instance.imageId } : {}),
          ...(keyrings ? { keyrings } : {}),
        });
      }
      nodes.sort((a, b) => (a.name < b.name ? -1 : 1));
      return { cluster, nodeGroup, observedAt: new Date().toISOString(), nodes };
    },

    async signalRepaverLane(a: Parameters<NodeGroupActivities['signalRepaverLane']>[0]) {
      const client = Context.current().client;
      return signalRepaverLane(client, {
        cluster: a.cluster,
        group: a.nodeGroup,
        taskQueue: activityInfo().taskQueue,
        signal: a.signal,
        ...(a.report ? { report: a.report } : {}),
        ...(a.lane ? { lane: a.lane } : {}),
      });
    },

    async holdRepaverLane({ cluster, nodeGroup, holder, reason, until }: NodeGroupRef & { holder: string; reason: string; until: number }) {
      const workflowId = repaverLaneWorkflowId(cluster, nodeGroup);
      await Context.current().client.workflow.signalWithStart('repaverLane', {
        workflowId,
        taskQueue: activityInfo().taskQueue,
        args: [{ cluster, group: nodeGroup }],
        signal: LANE_SIGNAL_HOLD,
        signalArgs: [{ holder, reason, until }],
      });
      return { workflowId };
    },

    async releaseRepaverLane({ cluster, nodeGroup, holder }: NodeGroupRef & { holder: string }) {
      try {
        await Context.current().client.workflow.getHandle(repaverLaneWorkflowId(cluster, nodeGroup)).signal(LANE_SIGNAL_RELEASE, { holder });
        return { released: true };
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) return { released: false }; // no lane running: nothing to release
        throw e;
      }
    },

    async waitForRepaverLaneIdle({ cluster, nodeGroup, holder, deadline }: NodeGroupRef & { holder: string; deadline: number }) {
      for (;;) {
        const state = await laneState(cluster, nodeGroup);
        if (!state) return { phase: 'idle' as const, inFlight: [] }; // no lane: nothing repaves the group
        if (state.holds.some((h) => h.holder === holder) && state.inFlight.length === 0) return { phase: state.phase, inFlight: state.inFlight };
        heartbeat({ phase: state.phase, inFlight: state.inFlight.map((f) => f.node) });
        if (Date.now() > deadline) {
          throw ApplicationFailure.nonRetryable(
            `repaver lane of ${cluster}/${nodeGroup} still has repaves in flight (${state.inFlight.map((f) => f.node).join(', ')})`,
            'LaneBusy',
          );
        }
        await sleep(1000);
      }
    },

    async describeClusterCompartment({ cluster }: { cluster: string }) {
      return { compartmentId: clients.clusterConfig(cluster).compartmentId };
    },

    async laneDesiredImage({ cluster, nodeGroup }: NodeGroupRef) {
      const imageId = (await laneState(cluster, nodeGroup))?.desiredImage?.imageId;
      return imageId ? { imageId } : {};
    },

    async pinLaneImage({ cluster, nodeGroup, ...request }: NodeGroupRef & DesiredImageRequest) {
      const workflowId = repaverLaneWorkflowId(cluster, nodeGroup);
      await Context.current().client.workflow.signalWithStart('repaverLane', {
        workflowId,
        taskQueue: activityInfo().taskQueue,
        args: [{ cluster, group: nodeGroup }],
        signal: LANE_SIGNAL_SET_DESIRED_IMAGE,
        signalArgs: [request],
      });
      return { workflowId };
    },

    async requireLaneKeyring({ cluster, nodeGroup, by, purpose, version }: NodeGroupRef & KeyringRequest) {
      const workflowId = repaverLaneWorkflowId(cluster, nodeGroup);
      await Context.current().client.workflow.signalWithStart('repaverLane', {
        workflowId,
        taskQueue: activityInfo().taskQueue,
        args: [{ cluster, group: nodeGroup }],
        signal: LANE_SIGNAL_REQUIRE_KEYRING,
        signalArgs: [{ by, purpose, version } satisfies KeyringRequest],
      });
      return { workflowId };
    },

    async releaseLaneKeyring({ cluster, nodeGroup, by, purpose, version }: NodeGroupRef & KeyringRequest) {
      try {
        await Context.current().client.workflow.getHandle(repaverLaneWorkflowId(cluster, nodeGroup)).signal(LANE_SIGNAL_REQUIRE_KEYRING, { by, purpose, version, release: true } satisfies KeyringRequest);
        return { released: true };
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) return { released: false };
        throw e;
      }
    },

    async waitForGroupOnImage({ cluster, nodeGroup, imageId, nodes, deadline, leaving }: Parameters<ImageRolloutActivities['waitForGroupOnImage']>[0]): Promise<{ images: Record<string, string> }> {
      for (;;) {
        const obs: NodeGroupObservation = await acts.listNodeGroupNodes({ cluster, nodeGroup });
        // Not Ready nodes count: whether they serve is for the health gates to judge.
        const onImage = obs.nodes.filter((n) => n.imageId === imageId);
        const busy = obs.nodes.filter((n) => n.owner);
        const want = nodes === 'all' ? obs.nodes.length : nodes;
        const images = Object.fromEntries(obs.nodes.map((n) => [n.name, n.imageId ?? 'unknown']));
        const left = leaving ? obs.nodes.filter((n) => n.imageId === leaving) : [];
        if ((leaving ? left.length === 0 : onImage.length >= want) && busy.length === 0) return { images };
        const moved = leaving ? `${left.length} node(s) of ${cluster}/${nodeGroup} still on ${leaving}` : `${onImage.length} of ${want} node(s) of ${cluster}/${nodeGroup} on ${imageId}`;
        const where = `${moved}${busy.length ? `, ${busy.map((n) => n.name).join(', ')} being repaved` : ''}`;
        heartbeat({ where });
        if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`${where} at the deadline`, 'WaveTimedOut');
        await sleep(2000);
      }
    },
  } satisfies NodeGroupActivities & KeyringLaneActivities & Pick<ImageRolloutActivities, 'laneDesiredImage' | 'pinLaneImage' | 'waitForGroupOnImage'>;
  return acts;
}

/** The keyring version a node reports per purpose (a malformed annotation counts as none). */
function keyringVersions(annotations: Record<string, string> | undefined): Partial<Record<KeyPurpose, number>> | undefined {
  const held = KEY_PURPOSES.flatMap((p) => {
    const version = parseHeldKeyring(annotations?.[keyringAnnotation(p)])?.version;
    return version === undefined ? [] : [[p, version] as const];
  });
  return held.length ? Object.fromEntries(held) : undefined;
}
