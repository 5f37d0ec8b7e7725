// Every workflow type the worker registers. With reuseV8Context the worker evaluates this module anew for every workflow it
// creates, so each type's module is required on its first call only: a repave does not build the other runbooks' input
// schemas (bench/HISTORY.md, "Creating a workflow, cut"). `require` is webpack's (the bundle is CommonJS); the functions are what the modules export.
import type * as RepaveNode from './repave-node.js';
import type * as RepaverLane from './repaver-lane.js';
import type * as SweepNodeGroup from './sweep-node-group.js';
import type * as NodeGroupManager from './node-group-manager.js';
import type * as DecommissionMember from './decommission-member.js';
import type * as RotateKeys from './rotate-keys.js';
import type * as CheckKeyrings from './check-keyrings.js';
import type * as RolloutNodeImage from './rollout-node-image.js';
import type * as RolloutDeployment from './rollout-deployment.js';

declare const require: (id: string) => unknown;

export function repaveNode(...args: Parameters<typeof RepaveNode.repaveNode>) {
  return (require('./repave-node.js') as typeof RepaveNode).repaveNode(...args);
}
export function repaverLane(...args: Parameters<typeof RepaverLane.repaverLane>) {
  return (require('./repaver-lane.js') as typeof RepaverLane).repaverLane(...args);
}
export function sweepNodeGroup(...args: Parameters<typeof SweepNodeGroup.sweepNodeGroup>) {
  return (require('./sweep-node-group.js') as typeof SweepNodeGroup).sweepNodeGroup(...args);
}
export function nodeGroupManager(...args: Parameters<typeof NodeGroupManager.nodeGroupManager>) {
  return (require('./node-group-manager.js') as typeof NodeGroupManager).nodeGroupManager(...args);
}
export function decommissionMember(...args: Parameters<typeof DecommissionMember.decommissionMember>) {
  return (require('./decommission-member.js') as typeof DecommissionMember).decommissionMember(...args);
}
export function rotateKeys(...args: Parameters<typeof RotateKeys.rotateKeys>) {
  return (require('./rotate-keys.js') as typeof RotateKeys).rotateKeys(...args);
}
export function checkKeyrings(...args: Parameters<typeof CheckKeyrings.checkKeyrings>) {
  return (require('./check-keyrings.js') as typeof CheckKeyrings).checkKeyrings(...args);
}
export function rolloutNodeImage(...args: Parameters<typeof RolloutNodeImage.rolloutNodeImage>) {
  return (require('./rollout-node-image.js') as typeof RolloutNodeImage).rolloutNodeImage(...args);
}
export function rolloutDeployment(...args: Parameters<typeof RolloutDeployment.rolloutDeployment>) {
  return (require('./rollout-deployment.js') as typeof RolloutDeployment).rolloutDeployment(...args);
}
