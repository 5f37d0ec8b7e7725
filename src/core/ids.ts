// Workflow IDs are derived from the target, so that a second run on the same target is refused by
// Temporal itself (one runbook per target at a time).
export const TASK_QUEUE = 'itinerant';

export const repaveNodeWorkflowId = (cluster: string, node: string) => `repave-node.${cluster}.${node}`;

/** One decommission per StatefulSet at a time (members leave one by one). */
export const decommissionWorkflowId = (cluster: string, namespace: string, statefulSet: string) => `decommission.${cluster}.${namespace}.${statefulSet}`;
