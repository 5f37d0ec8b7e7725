// The circuit breaker: repaving stops when too much of the group is unhealthy.
import type { NodeGroupConfig } from '../config.js';
import { nodeCountOf } from '../group-size.js';


export interface BreakerState {
  open: boolean;
  reason?: string;
  /** ISO time it opened. */
  since?: string;
  /** Set by an operator reset: the breaker stays closed unless more than this many nodes are unhealthy. */
  acknowledgedUnhealthy?: number;
}

export const closedBreaker = (): BreakerState => ({ open: false });

/** maxUnhealthy as a node count: a count as is; a percentage of the group's size, rounded down but at least 1 when above 0%. */
export function unhealthyThreshold(group: Pick<NodeGroupConfig, 'size' | 'maxUnhealthy'>): number {
  return nodeCountOf(group.maxUnhealthy, group.size);
}

export interface BreakerDecision {
  state: BreakerState;
  event?: 'tripped' | 'recovered';
}

/**
 * Open when more than the group's maxUnhealthy nodes are unhealthy at once (and more than an operator
 * acknowledged); close again by itself once no more than maxUnhealthy are.
 */
export function evaluateBreaker(prev: BreakerState, unhealthy: string[], group: Pick<NodeGroupConfig, 'name' | 'size' | 'maxUnhealthy'>, nowIso: string): BreakerDecision {
  const threshold = unhealthyThreshold(group);
  const count = unhealthy.length;
  if (count <= threshold) {
    return prev.open ? { state: closedBreaker(), event: 'recovered' } : { state: closedBreaker() };
  }
  if (prev.acknowledgedUnhealthy !== undefined && count <= prev.acknowledgedUnhealthy) return { state: prev };
  const shown = unhealthy.slice(0, 8).join(', ') + (count > 8 ? ', ...' : '');
  const reason = `${count} of ${group.size} nodes of group ${group.name} are unhealthy (${shown}); maxUnhealthy is ${group.maxUnhealthy} (${threshold} nodes): repaving stopped`;
  if (prev.open) return { state: { ...prev, reason } };
  return { state: { open: true, reason, since: nowIso }, event: 'tripped' };
}

/** Operator reset: close the breaker and accept the unhealthy count seen at the last sweep (it re-trips if it grows). */
export function resetBreaker(lastUnhealthyCount: number): BreakerState {
  return { open: false, acknowledgedUnhealthy: lastUnhealthyCount };
}
