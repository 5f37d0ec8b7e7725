// OCI Virtual Network: node groups' dedicated subnets in the cluster's VCN (the subnet manager).
import { ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import { models } from 'oci-core';
import type { SubnetActivities } from '../core/activity-contracts.js';
import { allocateCidrs } from '../core/cidr.js';
import type { ClusterNetwork, NodeGroupConfig } from '../core/config.js';
import { TAG_CLUSTER, TAG_NODE_GROUP } from '../core/labels.js';
import { missingSlots, subnetDisplayName, subnetSlots, type GroupSubnet } from '../core/subnets.js';
import type { ClientRegistry } from './clients.js';
import { rethrow } from './oci.js';
import { statusOf } from './oci-errors.js';

const POLL_MS = 1000;
const State = models.Subnet.LifecycleState;
const GONE = new Set<string>([State.Terminating, State.Terminated]);
const INSTANCE_GONE = new Set<string>([models.Instance.LifecycleState.Terminating, models.Instance.LifecycleState.Terminated]);

const toGroupSubnet = (s: models.Subnet): GroupSubnet => ({
  subnetId: s.id,
  cidrBlock: s.cidrBlock ?? '',
  ...(s.availabilityDomain ? { availabilityDomain: s.availabilityDomain } : {}),
  lifecycleState: s.lifecycleState,
});

export function virtualNetworkActivities({ clients }: { clients: ClientRegistry }) {
  /** The cluster's network and the group's subnet layout; refused (non-retryable) when the configuration has none. */
  function configOf(cluster: string, nodeGroup: string): { network: ClusterNetwork; group: NodeGroupConfig; compartmentId: string } {
    const config = clients.clusterConfig(cluster);
    const group = config.nodeGroups.find((g) => g.name === nodeGroup);
    if (!group) throw ApplicationFailure.nonRetryable(`node group ${nodeGroup} is not in the fleet configuration of cluster ${cluster}`, 'UnknownNodeGroup');
    if (!group.subnets || !config.network) throw ApplicationFailure.nonRetryable(`node group ${cluster}/${nodeGroup} has no dedicated subnets (subnets) in the fleet configuration`, 'NoDedicatedSubnets');
    return { network: config.network, group, compartmentId: config.compartmentId };
  }

  /** Every subnet of the VCN in the cluster's compartment, all pages. */
  async function vcnSubnets(cluster: string, compartmentId: string, vcnId: string): Promise<models.Subnet[]> {
    const out: models.Subnet[] = [];
    try {
      for await (const s of clients.for(cluster).network.listSubnetsRecordIterator({ compartmentId, vcnId })) out.push(s);
    } catch (e) {
      rethrow(e, `list subnets of VCN ${vcnId}`);
    }
    return out;
  }

  const isGroups = (cluster: string, nodeGroup: string) => (s: models.Subnet) =>
    s.freeformTags?.[TAG_CLUSTER] === cluster && s.freeformTags?.[TAG_NODE_GROUP] === nodeGroup && !GONE.has(s.lifecycleState);

  async function findGroupSubnets(cluster: string, nodeGroup: string): Promise<GroupSubnet[]> {
    const { network, compartmentId } = configOf(cluster, nodeGroup);
    return (await vcnSubnets(cluster, compartmentId, network.vcnId)).filter(isGroups(cluster, nodeGroup)).map(toGroupSubnet);
  }

  async function getSubnet(cluster: string, subnetId: string): Promise<models.Subnet | undefined> {
    try {
      return (await clients.for(cluster).network.getSubnet({ subnetId })).subnet;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      rethrow(e, `get subnet ${subnetId}`);
    }
  }

  /** Live (not terminating) instances of the group: they keep its subnets in use. */
  async function liveGroupInstances(cluster: string, compartmentId: string, nodeGroup: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const i of clients.for(cluster).compute.listInstancesRecordIterator({ compartmentId })) {
      if (i.freeformTags?.[TAG_NODE_GROUP] === nodeGroup && i.freeformTags?.[TAG_CLUSTER] === cluster && !INSTANCE_GONE.has(i.lifecycleState)) ids.push(i.id);
    }
    return ids;
  }

  async function waitUntil(cluster: string, subnetIds: string[], done: (s: models.Subnet | undefined) => boolean, deadline: number, what: string): Promise<void> {
    for (;;) {
      const states = await Promise.all(subnetIds.map(async (id) => [id, await getSubnet(cluster, id)] as const));
      const pending = states.filter(([, s]) => !done(s));
      if (pending.length === 0) return;
      heartbeat({ pending: pending.map(([id, s]) => `${id}: ${s?.lifecycleState ?? 'NOT_FOUND'}`) });
      if (Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(`subnets not ${what} at the deadline: ${pending.map(([id, s]) => `${id} is ${s?.lifecycleState ?? 'NOT_FOUND'}`).join(', ')}`, 'SubnetNotReady');
      }
      await sleep(POLL_MS);
    }
  }

  return {
    async findNodeGroupSubnets({ cluster, nodeGroup }) {
      return findGroupSubnets(cluster, nodeGroup);
    },

    async ensureNodeGroupSubnets({ cluster, nodeGroup, retryToken, deadline }) {
      const { network, group, compartmentId } = configOf(cluster, nodeGroup);
      const api = clients.for(cluster).network;
      let vcn: models.Vcn;
      try {
        vcn = (await api.getVcn({ vcnId: network.vcnId })).vcn;
      } catch (e) {
        rethrow(e, `get VCN ${network.vcnId}`);
      }
      const all = await vcnSubnets(cluster, compartmentId, network.vcnId);
      const existing = all.filter(isGroups(cluster, nodeGroup)).map(toGroupSubnet);
      const missing = missingSlots(group, existing);
      // Every CIDR before the first creation: an exhausted pool leaves nothing half made.
      const inUse = all.filter((s) => s.lifecycleState !== State.Terminated && s.cidrBlock).map((s) => s.cidrBlock!);
      const cidrs = allocateCidrs(network.subnetPool, inUse, group.subnets!.prefixLength, missing.length);
      if (!cidrs.ok) throw ApplicationFailure.nonRetryable(`node group ${cluster}/${nodeGroup}: ${cidrs.message}`, 'SubnetPoolExhausted');
      const slots = subnetSlots(group);
      const created: GroupSubnet[] = [];
      for (const [i, availabilityDomain] of missing.entries()) {
        try {
          const { subnet } = await api.createSubnet({
            // The slot's place among all of the group's slots: stable across attempts whatever was made before.
            opcRetryToken: `${retryToken}-${slots.indexOf(availabilityDomain)}`,
            createSubnetDetails: {
              compartmentId,
              vcnId: network.vcnId,
              cidrBlock: cidrs.value[i]!,
              ...(availabilityDomain ? { availabilityDomain } : {}),
              displayName: subnetDisplayName(cluster, nodeGroup, availabilityDomain),
              routeTableId: network.routeTableId ?? vcn.defaultRouteTableId,
              securityListIds: network.securityListIds ?? (vcn.defaultSecurityListId ? [vcn.defaultSecurityListId] : undefined),
              prohibitPublicIpOnVnic: true, // worker nodes: private
              freeformTags: { [TAG_CLUSTER]: cluster, [TAG_NODE_GROUP]: nodeGroup },
            },
          });
          created.push(toGroupSubnet(subnet));
        } catch (e) {
          rethrow(e, `create subnet ${cidrs.value[i]} for ${cluster}/${nodeGroup}${availabilityDomain ? ` in ${availabilityDomain}` : ''}`);
        }
        heartbeat({ created: created.map((s) => s.subnetId) });
      }
      const subnets = [...existing, ...created];
      await waitUntil(cluster, subnets.map((s) => s.subnetId), (s) => s?.lifecycleState === State.Available, deadline, 'AVAILABLE');
      return { subnets: subnets.map((s) => ({ ...s, lifecycleState: State.Available })), created: created.map((s) => s.subnetId) };
    },

    async deleteNodeGroupSubnets({ cluster, nodeGroup, except = [], keepInUse = false, deadline }) {
      const { compartmentId } = configOf(cluster, nodeGroup);
      const targets = (await findGroupSubnets(cluster, nodeGroup)).filter((s) => !except.includes(s.subnetId));
      const kept: string[] = [];
      const deleted: string[] = [];
      for (const s of targets) {
        for (;;) {
          try {
            await clients.for(cluster).network.deleteSubnet({ subnetId: s.subnetId });
            deleted.push(s.subnetId);
            break;
          } catch (e) {
            if (statusOf(e) === 404) break;
            if (statusOf(e) !== 409) rethrow(e, `delete subnet ${s.subnetId}`);
            // OCI refuses while a VNIC is in it (instances still terminating) or while it is still PROVISIONING.
            if (keepInUse && (await liveGroupInstances(cluster, compartmentId, nodeGroup)).length > 0) {
              kept.push(s.subnetId);
              break;
            }
            heartbeat({ waitingFor: s.subnetId, refused: (e as Error).message });
            if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`subnet ${s.subnetId} of ${cluster}/${nodeGroup} still in use at the deadline: ${(e as Error).message}`, 'SubnetInUse');
            await sleep(POLL_MS);
          }
        }
      }
      await waitUntil(cluster, deleted, (x) => !x || x.lifecycleState === State.Terminated, deadline, 'TERMINATED');
      return { deleted, kept };
    },
  } satisfies SubnetActivities;
}
