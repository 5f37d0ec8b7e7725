import { describe, expect, it } from 'vitest';
import { checkRepaveTarget, parseRepaveNodeInput, type RepaveTargetFacts } from '../../src/core/repave.js';
import { nodeGroup } from '../helpers/node-group.js';

const group = nodeGroup;

/** A Ready worker node of group general in cluster sim-1, backed by an instance, in a group of 4 Ready nodes. */
const facts = (over: Partial<RepaveTargetFacts> = {}): RepaveTargetFacts => ({
  cluster: 'sim-1',
  node: 'n1',
  exists: true,
  nodeCluster: 'sim-1',
  controlPlane: false,
  nodeGroup: 'general',
  ready: true,
  instanceId: 'ocid1.instance.oc1..n1',
  unmanagedPods: [],
  groupReady: 4,
  group: group(),
  ...over,
});

const keep = { evictUnmanagedPods: false };
const pods = (n: number) => Array.from({ length: n }, (_, i) => `default/p${i + 1}`);

describe('checkRepaveTarget refuses', () => {
  it.each<[string, Partial<RepaveTargetFacts>, boolean, string, RegExp]>([
    ['a node that does not exist', { exists: false }, false, 'node', /^node n1 does not exist in cluster sim-1$/],
    ['a missing node before anything else it would be', { exists: false, controlPlane: true, nodeGroup: undefined, group: undefined, instanceId: undefined }, false, 'node', /does not exist/],
    ['a node labelled for another cluster', { nodeCluster: 'prod-1' }, false, 'cluster', /^node n1 belongs to cluster prod-1, not sim-1$/],
    ['a node labelled with an empty cluster', { nodeCluster: '' }, false, 'cluster', /belongs to cluster , not sim-1/],
    ['a control-plane node', { controlPlane: true }, false, 'node', /^node n1 is a control-plane node; itinerant only repaves worker nodes of node groups$/],
    ['a control-plane node even with a group label', { controlPlane: true, nodeGroup: 'general' }, false, 'node', /control-plane/],
    ['a node without a node-group label', { nodeGroup: undefined, group: undefined }, false, 'node', /^node n1 has no itinerant\.dev\/node-group label: it belongs to no node group$/],
    ['a node with an empty node-group label', { nodeGroup: '' }, false, 'node', /has no itinerant\.dev\/node-group label/],
    ['a node of an undeclared group', { nodeGroup: 'gpu', group: undefined }, false, 'node', /^node n1 is in node group gpu, which the fleet configuration of cluster sim-1 does not declare$/],
    ['a node without an OCI instance', { instanceId: undefined }, false, 'node', /^node n1 has no OCI instance \(its spec\.providerID names no OCI instance: expected oci:\/\/ocid1\.instance\.\.\. or ocid1\.instance\.\.\.\); a node is never matched to an instance by name$/],
    ['a node with an empty instance id', { instanceId: '' }, false, 'node', /has no OCI instance/],
    ['unmanaged pods (one)', { unmanagedPods: pods(1) }, false, 'evictUnmanagedPods', /^node n1 runs pods no controller would recreate \(default\/p1\); set evictUnmanagedPods: true to evict them anyway$/],
    ['unmanaged pods (five, all named)', { unmanagedPods: pods(5) }, false, 'evictUnmanagedPods', /\(default\/p1, default\/p2, default\/p3, default\/p4, default\/p5\);/],
    ['unmanaged pods (six: five named, then ...)', { unmanagedPods: pods(6) }, false, 'evictUnmanagedPods', /\(default\/p1, default\/p2, default\/p3, default\/p4, default\/p5, \.\.\.\);/],
    ['maxSurge 0 without in-place replacement', { group: group({ maxSurge: 0 }) }, false, 'node', /^node group general has maxSurge 0 and does not allow in-place replacement: there is no way to repave it$/],
    ['maxSurge 0 without in-place, even with unmanaged pods allowed', { group: group({ maxSurge: 0 }), unmanagedPods: pods(1) }, true, 'node', /maxSurge 0/],
    // n+1: Ready while draining = groupReady - (this node Ready ? 1 : 0) + 1 (the replacement); minReady 3
    ['too few Ready nodes (2 Ready, this one among them: 2 while draining)', { groupReady: 2 }, false, 'node', /^node group general has 2 Ready nodes; repaving n1 would leave 2 while draining, below its minimum of 3$/],
    ['too few Ready nodes (1 Ready, this one NotReady: 2 while draining)', { groupReady: 1, ready: false }, false, 'node', /has 1 Ready nodes; repaving n1 would leave 2 while draining, below its minimum of 3/],
    ['no Ready node at all', { groupReady: 0, ready: false }, false, 'node', /would leave 1 while draining, below its minimum of 3/],
    // in place: no replacement while draining
    ['in place, 3 Ready with this one: 2 while draining', { groupReady: 3, group: group({ maxSurge: 0, allowInPlace: true }) }, false, 'node', /has 3 Ready nodes; repaving n1 would leave 2 while draining, below its minimum of 3/],
    // minReady explicit, and size - maxUnavailable
    ['an explicit minReady of 4 with 4 Ready', { group: group({ minReady: 4, maxSurge: 0, allowInPlace: true }) }, false, 'node', /below its minimum of 4/],
    ['maxUnavailable 0: minReady is the size', { groupReady: 3, ready: false, group: group({ maxUnavailable: 0, size: 5 }) }, false, 'node', /would leave 4 while draining, below its minimum of 5/],
  ])('%s', (_, over, evictUnmanagedPods, field, message) => {
    const d = checkRepaveTarget(facts(over), { evictUnmanagedPods });
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.field).toBe(field);
    expect(d.message).toMatch(message);
  });
});

describe('checkRepaveTarget accepts', () => {
  it.each<[string, Partial<RepaveTargetFacts>, boolean, { inPlace: boolean; minReady: number }]>([
    ['a Ready node of a full group (n+1)', {}, false, { inPlace: false, minReady: 3 }],
    ['a node without a cluster label (it is not known to belong elsewhere)', { nodeCluster: undefined }, false, { inPlace: false, minReady: 3 }],
    ['unmanaged pods when told to evict them', { unmanagedPods: pods(6) }, true, { inPlace: false, minReady: 3 }],
    ['evictUnmanagedPods without unmanaged pods', {}, true, { inPlace: false, minReady: 3 }],
    // the minimum exactly: n+1 with 3 Ready (this one included) keeps 3
    ['exactly the minimum while draining (3 Ready with this one)', { groupReady: 3 }, false, { inPlace: false, minReady: 3 }],
    ['exactly the minimum while draining (2 Ready, this one NotReady)', { groupReady: 2, ready: false }, false, { inPlace: false, minReady: 3 }],
    ['in place: maxSurge 0 and allowInPlace, 4 Ready keeps 3', { group: group({ maxSurge: 0, allowInPlace: true }) }, false, { inPlace: true, minReady: 3 }],
    ['in place, a NotReady node costs nothing', { groupReady: 3, ready: false, group: group({ maxSurge: 0, allowInPlace: true }) }, false, { inPlace: true, minReady: 3 }],
    ['allowInPlace with a surge: a replacement first', { group: group({ allowInPlace: true, maxSurge: 1 }) }, false, { inPlace: false, minReady: 3 }],
    ['a large surge', { group: group({ maxSurge: 10 }) }, false, { inPlace: false, minReady: 3 }],
    ['minReady 0 explicit, no Ready node', { groupReady: 0, ready: false, group: group({ minReady: 0 }) }, false, { inPlace: false, minReady: 0 }],
    ['maxUnavailable above the size: minReady 0', { groupReady: 0, ready: false, group: group({ maxUnavailable: 9 }) }, false, { inPlace: false, minReady: 0 }],
    ['a group of size 0 (being deleted)', { groupReady: 1, group: group({ size: 0 }) }, false, { inPlace: false, minReady: 0 }],
    ['an explicit minReady below size - maxUnavailable', { groupReady: 1, group: group({ minReady: 1 }) }, false, { inPlace: false, minReady: 1 }],
    ['more Ready nodes than the size', { groupReady: 9 }, false, { inPlace: false, minReady: 3 }],
  ])('%s', (_, over, evictUnmanagedPods, expected) => {
    expect(checkRepaveTarget(facts(over), { evictUnmanagedPods })).toEqual({ ok: true, ...expected });
  });

  it('decides from its inputs only (the same facts, the same answer)', () => {
    const f = facts({ unmanagedPods: pods(2) });
    const copy = structuredClone(f);
    expect(checkRepaveTarget(f, keep)).toEqual(checkRepaveTarget(copy, keep));
    expect(f).toEqual(copy);
  });
});

describe('parseRepaveNodeInput: a refusal names the field once', () => {
  it.each<[Record<string, unknown>, string]>([
    [{ drainTimeout: 'soon' }, 'drainTimeout: expected a duration between 1s and 24h such as "30m", got "soon"'],
    [{ readyTimeout: '7h' }, 'readyTimeout: expected a duration between 1s and 6h such as "20m", got "7h"'],
    [{ drainTimeout: -5 }, 'drainTimeout: expected a duration between 1s and 24h such as "30m", got -5'],
  ])('%o', (over, message) => {
    expect(parseRepaveNodeInput({ cluster: 'sim-1', node: 'sim-1-general-1', ...over })).toEqual({ ok: false, message });
  });
});
