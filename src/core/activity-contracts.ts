// The activities' signatures, as pure types: workflows compile against these without pulling
// Node-only activity code into their type check; src/activities implements them (`satisfies`).
import type { NodeGroupConfig } from './config.js';
import type { GroupSubnet } from './subnets.js';
import type {
  DecommissionFacts,
  FollowOutcome,
  FollowRequest,
  MemberMode,
  MemberState,
  StatefulMemberRef,
} from './decommission.js';
import type { DesiredImageRequest, KeyringRequest, LaneOptions, LaneState, NodeGroupObservation } from './lane/index.js';
import type { NodeHealthFacts } from './rollout.js';
import type { DeploymentFacts, DeploymentRef, RolloutDeploymentRequest } from './deployment-rollout.js';

export interface ClusterRef {
  cluster: string;
}
export interface NodeRef extends ClusterRef {
  node: string;
}

/**
 * The Node an OCI instance runs: found by spec.providerID, never by name alone. `node` is where to look first
 * (the name it was found under before); calls scheduled by runs from before this field existed carry `node` only.
 */
export interface NodeOfInstance extends ClusterRef {
  instanceId?: string;
  node?: string;
}

export interface NodeInspection {
  exists: boolean;
  nodeCluster?: string;
  controlPlane: boolean;
  nodeGroup?: string;
  ready: boolean;
  unschedulable: boolean;
  instanceId?: string;
  /** The workflow that has claimed the node, if any. */
  owner?: string;
  unmanagedPods: string[];
  /** Ready nodes of the node's group (this one included when Ready). */
  groupReady: number;
}

export interface DrainRequest extends NodeRef {
  /** Epoch ms after which refused evictions are no longer retried. */
  deadline: number;
  evictUnmanagedPods: boolean;
  deletePodsBlockedByPdbAfterTimeout: boolean;
}

export interface DrainResult {
  evicted: string[];
  deletedAfterTimeout: string[];
  skipped: { daemonSet: number; mirror: number; finished: number };
}

/** Heartbeat details of drainNode: what a retried attempt resumes from. */
export interface DrainCheckpoint {
  evicted: string[];
  remaining: number;
  blockedByPdb: string[];
  /** Evictions the API server refused for another reason (e.g. a pod under two PodDisruptionBudgets: 500), pod → its answer. */
  refused?: Record<string, string>;
}

export interface KubernetesActivities {
  inspectNode(a: NodeRef): Promise<NodeInspection>;
  claimNode(a: NodeRef & { owner: string }): Promise<void>;
  releaseNode(a: NodeRef & { owner: string }): Promise<void>;
  /** Wait until the instance's node is Ready and runs its DaemonSet pods; answers the node's name. */
  waitForNodeOperational(a: NodeOfInstance & { deadline: number }): Promise<{ node: string; daemonSetPods: number }>;
  cordonNode(a: NodeRef): Promise<{ changed: boolean }>;
  uncordonNode(a: NodeRef): Promise<{ changed: boolean }>;
  drainNode(a: DrainRequest): Promise<DrainResult>;
  /** With `instanceId`: only that instance's node, whatever its name (a name reused by another machine is left alone). */
  deleteNode(a: NodeOfInstance): Promise<{ deleted: boolean }>;
}

export interface InstanceFacts {
  id: string;
  displayName: string;
  lifecycleState: string;
  compartmentId: string;
  availabilityDomain: string;
  faultDomain?: string;
  shape: string;
  shapeConfig?: { ocpus?: number; memoryInGBs?: number };
  imageId?: string;
  freeformTags: Record<string, string>;
}

export interface LaunchReplacementRequest extends ClusterRef {
  nodeGroup: string;
  /** The node being replaced (tagged on the new instance). */
  replaces: string;
  /** Display name, also the new node's name. */
  displayName: string;
  /** opc-retry-token: the same for every attempt of this launch. */
  retryToken: string;
  compartmentId: string;
  availabilityDomain: string;
  faultDomain?: string;
  /** Missing only for a group with dedicated subnets none of which is in this AD yet: the launch is refused. */
  subnetId?: string;
  shape: string;
  shapeConfig?: { ocpus?: number; memoryInGBs?: number };
  imageId: string;
  nodeLabels: Record<string, string>;
  nodeTaints: NodeGroupConfig['taints'];
}

export interface OciActivities {
  describeInstance(a: ClusterRef & { instanceId: string }): Promise<InstanceFacts | undefined>;
  resolveImage(a: ClusterRef & { compartmentId: string; image: NodeGroupConfig['image'] }): Promise<{ imageId: string; displayName: string }>;
  launchReplacement(a: LaunchReplacementRequest): Promise<{ instanceId: string; created: boolean }>;
  waitForInstanceRunning(a: ClusterRef & { instanceId: string; deadline: number }): Promise<{ instanceId: string }>;
  terminateInstance(a: ClusterRef & { instanceId: string }): Promise<{ lifecycleState: string }>;
  /**
   * Terminate whatever a launch created under this display name and `replaces` tag, whether or not the
   * launch's answer ever reached the workflow (an abort or a timeout mid-launch, a lost response).
   */
  terminateLaunched(a: Pick<LaunchReplacementRequest, 'cluster' | 'compartmentId' | 'displayName' | 'replaces'>): Promise<{ terminated: string[] }>;
}

export interface ConfigActivities {
  /** The group as configured; a group with dedicated subnets gets each placement's subnetId from the subnets found in OCI. */
  describeNodeGroup(a: ClusterRef & { nodeGroup: string }): Promise<NodeGroupConfig | undefined>;
}

/**
 * A repave's steps that always follow each other, as one activity each (src/activities/repave-steps.ts, the same
 * calls in the same order): in runs with the patch `repave-folded-steps` a repave takes 7 activities, not 12,
 * and so 5 workflow tasks and 30 history events fewer.
 */
export interface RepaveStepActivities {
  /** inspectNode, then describeNodeGroup of its group and describeInstance of its instance (reads only). */
  preflightNode(a: NodeRef): Promise<{ facts: NodeInspection; group?: NodeGroupConfig; instance?: InstanceFacts }>;
  /** waitForInstanceRunning, then waitForNodeOperational, both by the same deadline. */
  waitForReplacement(a: NodeOfInstance & { instanceId: string; deadline: number }): Promise<{ node: string; daemonSetPods: number }>;
  /** cordonNode, then drainNode. */
  cordonAndDrain(a: DrainRequest): Promise<DrainResult>;
  /** deleteNode, then terminateInstance. */
  retireNode(a: NodeOfInstance & { instanceId: string }): Promise<{ deleted: boolean; lifecycleState: string }>;
}

export type RepaveActivities = KubernetesActivities & OciActivities & ConfigActivities & RepaveStepActivities;

/** A lane's sweep reads, as one activity (src/activities/repave-steps.ts): one workflow task and 3 history events fewer a sweep. */
export interface LaneSweepActivities {
  /** describeNodeGroup, then listNodeGroupNodes of a group that is configured (none of one that is not). */
  observeNodeGroup(a: NodeGroupRef): Promise<{ group?: NodeGroupConfig; observation?: NodeGroupObservation }>;
}

// ---- node groups' dedicated subnets (src/activities/virtual-network.ts) ----

export interface SubnetActivities {
  /** The group's dedicated subnets in the cluster's VCN (found by cluster and node-group tags), not being deleted. */
  findNodeGroupSubnets(a: ClusterRef & { nodeGroup: string }): Promise<GroupSubnet[]>;
  /**
   * Create the subnets the group lacks (CIDRs from the cluster's pool, allocated before any is created: an
   * exhausted pool creates nothing) and wait, heartbeating, until all are AVAILABLE. Idempotent: existing
   * ones are found by tag, and each creation carries a retry token derived from `retryToken`.
   */
  ensureNodeGroupSubnets(a: ClusterRef & { nodeGroup: string; retryToken: string; deadline: number }): Promise<{ subnets: GroupSubnet[]; created: string[] }>;
  /**
   * Delete the group's subnets but `except`, waiting (heartbeating) while OCI refuses because instances still
   * have VNICs in them (409 Conflict) — unless `keepInUse`: then a subnet a live instance of the group is in
   * is kept and reported. Waits until each is TERMINATED.
   */
  deleteNodeGroupSubnets(a: ClusterRef & { nodeGroup: string; except?: string[]; keepInUse?: boolean; deadline: number }): Promise<{ deleted: string[]; kept: string[] }>;
}

// ---- repaver lanes and node group management (src/activities/node-groups.ts) ----

export interface NodeGroupRef extends ClusterRef {
  nodeGroup: string;
}

export interface NodeGroupActivities {
  /** Every node of the group (itinerant.dev/node-group label, this cluster) with age, health and live claim. */
  listNodeGroupNodes(a: NodeGroupRef): Promise<NodeGroupObservation>;
  /** Signal-with-start the group's repaver lane (the Schedule's sweep, or an unhealthy report). */
  signalRepaverLane(
    a: NodeGroupRef & { signal: 'sweepNow' | 'pause' | 'resume' | 'reportUnhealthy'; report?: { node: string; reason: string }; lane?: LaneOptions },
  ): Promise<{ workflowId: string }>;
  /** Hold the lane (signal-with-start): it starts no repave until released or `until` (epoch ms) passes. */
  holdRepaverLane(a: NodeGroupRef & { holder: string; reason: string; until: number }): Promise<{ workflowId: string }>;
  releaseRepaverLane(a: NodeGroupRef & { holder: string }): Promise<{ released: boolean }>;
  /** Wait (heartbeating) until the lane acknowledges the hold and has no repave in flight. */
  waitForRepaverLaneIdle(a: NodeGroupRef & { holder: string; deadline: number }): Promise<Pick<LaneState, 'phase' | 'inFlight'>>;
  /** The cluster's compartment (from the fleet configuration), where its node groups' instances live. */
  describeClusterCompartment(a: ClusterRef): Promise<{ compartmentId: string }>;
}

// ---- stateful member decommission (src/activities/decommission.ts, stateful-set.ts; adapters in src/services/) ----

export interface IssueDecommissionResult {
  /** False when the member was not NORMAL any more: nothing was issued. */
  issued: boolean;
  mode: MemberMode;
}

export interface DecommissionActivities {
  /** Read-only preflight: the StatefulSet, its pods, the ring seen from another member, replication, a live claim. */
  inspectDecommission(a: StatefulMemberRef & { owner: string }): Promise<DecommissionFacts>;
  /** Annotate the StatefulSet as held by this run (atomic); refuses when another live run holds it. */
  claimStatefulSet(a: StatefulMemberRef & { owner: string }): Promise<void>;
  releaseStatefulSet(a: StatefulMemberRef & { owner: string }): Promise<void>;
  /** The member's own mode and streaming progress (UNREACHABLE when it cannot be asked). */
  readMemberState(a: StatefulMemberRef): Promise<MemberState>;
  /**
   * Issue the service's decommission once, only if the member is NORMAL: start the command and return as soon
   * as the member reports LEAVING (the command itself keeps running). Scheduled without retries.
   */
  issueDecommission(a: StatefulMemberRef & { waitForLeavingMs: number }): Promise<IssueDecommissionResult>;
  /** Follow the member until it has left the ring, heartbeating a FollowCheckpoint; never issues anything. */
  followDecommission(a: FollowRequest): Promise<FollowOutcome>;
  /** Scale the StatefulSet from ordinal+1 to ordinal replicas (already done: no change). */
  scaleDownStatefulSet(a: StatefulMemberRef & { ordinal: number }): Promise<{ replicasBefore: number; replicasAfter: number; changed: boolean }>;
  waitForMemberPodGone(a: StatefulMemberRef & { deadline: number }): Promise<{ gone: true }>;
  /** Delete the member's PersistentVolumeClaims; refuses while its pod exists. */
  deleteMemberClaims(a: StatefulMemberRef & { claims: string[] }): Promise<{ deleted: string[]; absent: string[] }>;
}

// ---- node image rollouts (src/activities/oci.ts, node-groups.ts, health-gates.ts) ----

export interface ImageRolloutActivities {
  /**
   * Tag the image for a channel (`on`), remembering the channel it was on and the rollout; or take that back
   * (`on: false`, only if this rollout tagged it). Already so: no change.
   */
  tagImageChannel(a: ClusterRef & { imageId: string; channel: string; rollout: string; on: boolean }): Promise<{ changed: boolean }>;
  /** The desired image the group's lane keeps; undefined when no lane runs or it has none yet. */
  laneDesiredImage(a: NodeGroupRef): Promise<{ imageId?: string }>;
  /** Pin the lane's desired image (signal-with-start: a lane starts if none runs). */
  pinLaneImage(a: NodeGroupRef & DesiredImageRequest): Promise<{ workflowId: string }>;
  /**
   * Wait (heartbeating) until `nodes` nodes of the group run the image (`all`: every node) and no node is held by
   * a repave (the lanes are done; whether the nodes serve is for the health gates); with `leaving`, until no node
   * runs that image instead. Answers node → image. Past the deadline: a non-retryable WaveTimedOut.
   */
  waitForGroupOnImage(a: NodeGroupRef & { imageId: string; nodes: number | 'all'; deadline: number; leaving?: string }): Promise<{ images: Record<string, string> }>;
  /** Each node's readiness and its pods, for the health gates. */
  inspectNodeHealth(a: ClusterRef & { nodes: string[] }): Promise<NodeHealthFacts[]>;
}

// ---- key rotations through the lanes (src/activities/node-groups.ts) ----

export interface KeyringLaneActivities {
  /** Require the group's nodes to hold a keyring version (signal-with-start: a lane starts if none runs). */
  requireLaneKeyring(a: NodeGroupRef & Omit<KeyringRequest, 'release'>): Promise<{ workflowId: string }>;
  /** Drop that requirement (no lane running: nothing to drop). */
  releaseLaneKeyring(a: NodeGroupRef & Omit<KeyringRequest, 'release'>): Promise<{ released: boolean }>;
}

// ---- Deployment rollouts (src/activities/deployments.ts) ----

export interface DeploymentActivities {
  inspectDeployment(a: DeploymentRef): Promise<DeploymentFacts>;
  /** Set container images (and resume); already so: no change. */
  setDeploymentImages(a: DeploymentRef & { images: Record<string, string>; canary?: number }): Promise<{ changed: boolean }>;
  pauseDeployment(a: DeploymentRef & { paused: boolean }): Promise<{ changed: boolean }>;
  /** Make an earlier template (by pod-template-hash) the Deployment's again (and resume); already so: no change. */
  undoDeploymentRollout(a: DeploymentRef & { toTemplate: string }): Promise<{ changed: boolean }>;
  /** Follow (heartbeating) until complete, the canary reached, a gate failed or the deadline passed. */
  followDeploymentRollout(
    a: DeploymentRef & { deadline: number; gates: RolloutDeploymentRequest['gates']; canary?: number },
  ): Promise<{ outcome: 'complete' | 'canary' | 'failed' | 'timed-out'; why: string; revision: number }>;
}
