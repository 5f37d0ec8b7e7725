// The chaos suite's invariants (scripts/chaos/invariants.ts) as tables: each holds, and each is broken.
import { describe, expect, it } from 'vitest';
import {
  capacityViolations,
  duplicateDecommissions,
  duplicateLaunches,
  duplicateVolumeReleases,
  orphanInstances,
  outcomeViolations,
  volumeReleasedInRing,
  type InstanceView,
  type MemberView,
} from '../../scripts/chaos/invariants.js';

const AT = '2026-01-01T00:00:00.000Z';
const instance = (id: string, over: Partial<InstanceView> = {}): InstanceView => ({
  id,
  lifecycleState: 'RUNNING',
  timeCreated: AT,
  group: 'general',
  nodeName: `node-${id}`,
  nodePresent: true,
  ...over,
});
const member = (pod: string, over: Partial<MemberView> = {}): MemberView => ({ pod, hostId: `host-${pod}`, inRing: true, replaced: false, decommissionsStarted: 0, ...over });
const seeded = new Set(['g-1', 'g-2']);

describe('chaos invariants', () => {
  it.each([
    ['one live replacement, one needed', [instance('a', { replaces: 'g-1' })], { needed: 1, strict: true }, []],
    ['a failed attempt terminated, lenient', [instance('a', { replaces: 'g-1', lifecycleState: 'TERMINATED' }), instance('b', { replaces: 'g-1' })], { needed: 1, strict: false }, []],
    ['a failed attempt terminated, strict', [instance('a', { replaces: 'g-1', lifecycleState: 'TERMINATED' }), instance('b', { replaces: 'g-1' })], { needed: 1, strict: true }, ['2 instances launched, 1 needed']],
    ['two live replacements of one node', [instance('a', { replaces: 'g-1' }), instance('b', { replaces: 'g-1' })], { needed: 2, strict: false }, ['node g-1 has 2 live replacements']],
    ['two launches for a runbook (not a node) within budget', [instance('a', { replaces: 'mgr' }), instance('b', { replaces: 'mgr' })], { needed: 2, strict: true }, []],
  ])('duplicateLaunches: %s', (_, launched, budget, expected) => {
    const v = duplicateLaunches(AT, launched, budget, seeded);
    expect(v.map((x) => x.evidence.replace(/:.*/, ''))).toEqual(expected);
    expect(v.every((x) => x.invariant === 'duplicate-launch')).toBe(true);
  });

  it.each([
    ['at the floor', [{ at: AT, group: 'general', ready: 3 }], []],
    ['below the floor', [{ at: AT, group: 'general', ready: 2 }], ['group general had 2 Ready nodes, below its floor of 3 (size − maxUnavailable)']],
    ['a group without a floor', [{ at: AT, group: 'other', ready: 0 }], []],
  ])('capacityViolations: %s', (_, points, expected) => {
    expect(capacityViolations(points, { general: 3 }).map((v) => v.evidence)).toEqual(expected);
  });

  it.each([
    ['member left the ring', [member('cassandra-3', { inRing: false })], []],
    ['member still in the ring', [member('cassandra-3')], ['claim data/data-cassandra-3 released while member cassandra-3 (host host-cassandra-3) is still in the ring']],
    ['only a replaced member of that pod is in the ring', [member('cassandra-3', { replaced: true }), member('cassandra-3', { hostId: 'new', inRing: false })], []],
    ['another member in the ring', [member('cassandra-2'), member('cassandra-3', { inRing: false })], []],
  ])('volumeReleasedInRing: %s', (_, members, expected) => {
    expect(volumeReleasedInRing(AT, { namespace: 'data', name: 'data-cassandra-3' }, members).map((v) => v.evidence)).toEqual(expected);
  });

  it('duplicateDecommissions and duplicateVolumeReleases: once is fine, twice is a violation', () => {
    expect(duplicateDecommissions(AT, [member('cassandra-3', { decommissionsStarted: 1 })])).toEqual([]);
    expect(duplicateDecommissions(AT, [member('cassandra-3', { decommissionsStarted: 2 })])[0]!.evidence).toBe('nodetool decommission started 2 times on member cassandra-3 (host host-cassandra-3)');
    expect(duplicateVolumeReleases(AT, 1, 1)).toEqual([]);
    expect(duplicateVolumeReleases(AT, 2, 1)[0]!.invariant).toBe('duplicate-volume-release');
  });

  it.each([
    ['every live instance has its node, sizes match', [instance('a'), instance('b'), instance('c', { lifecycleState: 'TERMINATED', nodePresent: false })], 2, []],
    ['a live instance without a node', [instance('a'), instance('b', { nodePresent: false })], 1, ['instance b (group general, RUNNING) is live but its node node-b is not in the cluster', 'group general has 2 live instances, its size is 1']],
    ['a group short of its size', [], 1, ['group general has 0 live instances, its size is 1']],
  ])('orphanInstances: %s', (_, instances, size, expected) => {
    expect(orphanInstances(AT, instances, { general: size }).map((v) => v.evidence)).toEqual(expected);
  });

  it.each([
    ['completed', { status: 'completed' as const }, undefined, 0],
    ['an expected refusal', { status: 'failed' as const, type: 'Refused', message: 'refused: below minReady' }, /minReady/, 0],
    ['an unexpected refusal', { status: 'failed' as const, type: 'Refused', message: 'refused: owned by another run' }, /minReady/, 1],
    ['a failure', { status: 'failed' as const, type: 'Failed', message: 'drain failed' }, undefined, 1],
    ['no end before the deadline', { status: 'timed-out' as const, waited: '240 s' }, undefined, 1],
  ])('outcomeViolations: %s', (_, outcome, refusal, count) => {
    expect(outcomeViolations(AT, 'repave#0', outcome, refusal)).toHaveLength(count);
  });
});
