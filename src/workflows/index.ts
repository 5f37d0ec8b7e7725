// Every workflow type the worker registers.
export { repaveNode } from './repave-node.js';
export { decommissionMember } from './decommission-member.js';
