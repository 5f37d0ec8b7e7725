// The clock, node group and observed nodes the lane's table tests plan against.
import type { NodeGroupConfig } from '../../src/core/config.js';
import type { ObservedNode } from '../../src/core/lane/index.js';
import { nodeGroup, THREE_PLACEMENTS } from '../helpers/node-group.js';

export const H = 3_600_000;
export const D = 24 * H;
export const NOW = Date.parse('2025-03-01T12:00:00Z');
export const iso = (ms: number) => new Date(ms).toISOString();

export const group = (over: Record<string, unknown> = {}): NodeGroupConfig =>
  nodeGroup({ size: 6, placement: THREE_PLACEMENTS, maxAge: '30d', maxSurge: 2, maxUnavailable: 2, maxUnhealthy: '50%', ...over });

/** A Ready node `ageDays` old in fault domain `fd`. */
export function node(name: string, ageDays: number, fd: number, over: Partial<ObservedNode> = {}): ObservedNode {
  const createdAt = NOW - ageDays * D;
  return {
    name,
    createdAt: iso(createdAt),
    ready: true,
    conditions: [{ type: 'Ready', status: 'True', since: iso(createdAt) }],
    unschedulable: false,
    faultDomain: `FAULT-DOMAIN-${fd}`,
    ...over,
  };
}
