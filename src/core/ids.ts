// Workflow IDs are derived from the target, so that a second run on the same target is refused by
// Temporal itself (one runbook per target at a time).
export const TASK_QUEUE = 'itinerant';

export const repaveNodeWorkflowId = (cluster: string, node: string) => `repave-node.${cluster}.${node}`;

/** The long-running repaver lane of one node group (one per cluster and group). */
export const repaverLaneWorkflowId = (cluster: string, group: string) => `repaver.${cluster}.${group}`;
/** The Temporal Schedule that sweeps a node group's lane. */
export const repaverScheduleId = (cluster: string, group: string) => `repaver-sweep.${cluster}.${group}`;
/** Prefix of the short workflows a repaver Schedule starts (the Schedule appends the fire time). */
export const sweepNodeGroupWorkflowId = (cluster: string, group: string) => `sweep-node-group.${cluster}.${group}`;
/** One node group manager run per group at a time (create, scale, delete). */
export const nodeGroupManagerWorkflowId = (cluster: string, group: string) => `node-group-manager.${cluster}.${group}`;

/** One decommission per StatefulSet at a time (members leave one by one). */
export const decommissionWorkflowId = (cluster: string, namespace: string, statefulSet: string) => `decommission.${cluster}.${namespace}.${statefulSet}`;

/** One node image rollout per channel at a time. */
export const rolloutNodeImageWorkflowId = (cluster: string, channel: string) => `rollout-node-image.${cluster}.${channel}`;

/** One rollout per Deployment at a time. */
export const rolloutDeploymentWorkflowId = (cluster: string, namespace: string, deployment: string) => `rollout-deployment.${cluster}.${namespace}.${deployment}`;
