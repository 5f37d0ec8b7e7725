// Every workflow type the worker registers.
export { repaveNode } from './repave-node.js';
export { repaverLane } from './repaver-lane.js';
export { sweepNodeGroup } from './sweep-node-group.js';
export { nodeGroupManager } from './node-group-manager.js';
export { decommissionMember } from './decommission-member.js';
export { rotateKeys } from './rotate-keys.js';
export { checkKeyrings } from './check-keyrings.js';
