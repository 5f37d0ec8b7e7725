// The pure decisions and input parsing of decommissionMember (no Temporal needed): preflight, next step.
import { describe, expect, it } from 'vitest';
import {
  checkDecommission,
  nextDecommissionStep,
  parseDecommissionMemberInput,
  ringReadProblem,
  type DecommissionFacts,
  type DecommissionStep,
  type MemberMode,
  type RingMember,
} from '../../src/core/decommission.js';

const member = (i: number, group: string, over: Partial<RingMember> = {}): RingMember => ({
  id: `00000000-0000-4000-8000-00000000000${i}`,
  address: `10.0.0.${i}`,
  up: true,
  state: 'normal',
  group,
  ...over,
});

const facts = (ring: RingMember[], replication: DecommissionFacts['replication'], replicas = 4): DecommissionFacts => ({
  statefulSetExists: true,
  replicas,
  claimTemplates: ['data', 'commitlog'],
  pods: Array.from({ length: replicas }, (_, i) => ({ name: `cassandra-${i}`, ordinal: i, ready: true })),
  observer: 'cassandra-0',
  ring,
  memberId: `00000000-0000-4000-8000-00000000000${replicas - 1}`,
  memberState: { mode: 'NORMAL' },
  replication,
});

const req = { cluster: 'sim-1', namespace: 'data', statefulSet: 'cassandra', member: 'cassandra-3', service: 'cassandra' as const };

describe('checkDecommission', () => {
  it('counts members per datacenter for NetworkTopologyStrategy, and the whole ring for SimpleStrategy', () => {
    const ring = [member(0, 'dc1'), member(1, 'dc1'), member(2, 'dc2'), member(3, 'dc2')];
    // dc2 keeps 2 replicas; removing a dc2 member leaves 1 there
    expect(checkDecommission(facts(ring, [{ what: 'keyspace shop', replicas: 2, group: 'dc2' }]), req)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/keeps 2 replicas in dc2; decommissioning cassandra-3 would leave 1 member there/),
    });
    // dc1 RF 2 does not mind a dc2 member leaving
    expect(checkDecommission(facts(ring, [{ what: 'keyspace shop', replicas: 2, group: 'dc1' }]), req).ok).toBe(true);
    // SimpleStrategy RF 3 over the whole ring: 3 left is enough, RF 4 is not
    expect(checkDecommission(facts(ring, [{ what: 'keyspace ks', replicas: 3 }]), req).ok).toBe(true);
    expect(checkDecommission(facts(ring, [{ what: 'keyspace ks', replicas: 4 }]), req).ok).toBe(false);
  });

  it('names every claim of the member and puts the observer first', () => {
    const ring = [0, 1, 2, 3].map((i) => member(i, 'dc1'));
    const d = checkDecommission({ ...facts(ring, []), observer: 'cassandra-1' }, req);
    expect(d).toMatchObject({ ok: true, ordinal: 3, claims: ['data-cassandra-3', 'commitlog-cassandra-3'] });
    if (d.ok) expect(d.observers).toEqual(['cassandra-1', 'cassandra-0', 'cassandra-2']);
  });

  it('refuses a namespace the fleet configuration does not declare before anything else, saying how to declare it', () => {
    const ring = [0, 1, 2, 3].map((i) => member(i, 'dc1'));
    const d = checkDecommission({ ...facts(ring, []), namespaceNotDeclared: { declared: ['data', 'cache'] } }, { ...req, namespace: 'kube-system' });
    expect(d).toEqual({
      ok: false,
      field: 'namespace',
      message: expect.stringMatching(
        /^kube-system is not a stateful-service namespace of cluster sim-1 in the fleet configuration \(statefulNamespaces: data, cache\).*declare it in the cluster's statefulNamespaces, re-render and apply the worker's RBAC \(itinerant rbac render --cluster sim-1/,
      ),
    });
    expect(checkDecommission({ ...facts(ring, []), namespaceNotDeclared: { declared: [] } }, req)).toMatchObject({ ok: false, message: expect.stringMatching(/statefulNamespaces: none/) });
  });

  it('refuses the only member', () => {
    const d = checkDecommission({ ...facts([member(0, 'dc1')], [], 1), memberId: member(0, 'dc1').id }, { ...req, member: 'cassandra-0' });
    expect(d).toMatchObject({ ok: false, message: expect.stringMatching(/only member/) });
  });
});

describe('parseDecommissionMemberInput', () => {
  it('fills in defaults', () => {
    expect(parseDecommissionMemberInput({ cluster: 'sim-1', namespace: 'data', statefulSet: 'cassandra', member: 'cassandra-3' })).toEqual({
      ok: true,
      value: { cluster: 'sim-1', namespace: 'data', statefulSet: 'cassandra', member: 'cassandra-3', service: 'cassandra', releaseVolume: false, stuckAfter: 1_800_000, notStreamingAfter: 300_000, timeout: 86_400_000 },
    });
  });

  it('names the field of each problem', () => {
    const r = parseDecommissionMemberInput({ cluster: 'Sim 1', namespace: 'data', statefulSet: 'cassandra', member: 'cassandra-3', stuckAfter: '1s', extra: true });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(/cluster: expected a lower-case DNS label/);
      expect(r.message).toMatch(/stuckAfter: expected a duration between 10s and 24h/);
      expect(r.message).toMatch(/extra/);
    }
  });
});

describe('nextDecommissionStep', () => {
  it.each<[MemberMode, number, number, DecommissionStep]>([
    // mode, times issued, re-issues so far → next step
    ['NORMAL', 0, 0, { step: 'issue' }],
    ['DECOMMISSION_FAILED', 0, 0, { step: 'issue' }],
    ['NORMAL', 1, 0, { step: 'reissue', reissue: 1 }],
    ['DECOMMISSION_FAILED', 2, 1, { step: 'reissue', reissue: 2 }],
    ['NORMAL', 3, 2, { step: 'reissue', reissue: 3 }],
    ['NORMAL', 4, 3, { step: 'ask-before-reissue', fellBack: 3 }],
    ['LEAVING', 0, 0, { step: 'follow' }],
    ['LEAVING', 1, 0, { step: 'follow' }],
    ['DECOMMISSIONED', 1, 0, { step: 'follow' }],
    ['JOINING', 0, 0, { step: 'recheck' }],
    ['STARTING', 1, 0, { step: 'recheck' }],
    ['UNREACHABLE', 1, 3, { step: 'recheck' }],
    ['DRAINED', 0, 0, { step: 'recheck' }],
  ])('%s, issued %i times, %i re-issues → %o', (mode, timesIssued, reissues, step) => {
    expect(nextDecommissionStep({ mode, timesIssued, reissues, maxReissues: 3 })).toEqual(step);
  });
});

describe('ringReadProblem: a truncated or garbled ring read is not believed', () => {
  const ids = (...n: number[]) => n.map((i) => ({ id: `m-${i}` }));
  it.each<[string, { id: string }[], string | undefined, number | undefined, string | undefined]>([
    ['the whole ring, the observer in it', ids(0, 1, 2, 3), 'm-0', 3, undefined],
    ['the member gone: one fewer than the preflight count', ids(0, 1, 2), 'm-0', 3, undefined],
    ['a header and no rows', [], 'm-0', 3, 'the ring read lists 0 member(s) but not the observer itself'],
    ['rows missing, the observer among them', ids(0, 1), 'm-0', 3, 'the ring read lists 2 member(s), fewer than the 3 expected'],
    ['the observer\'s own row missing', ids(1, 2, 3), 'm-0', 3, 'the ring read lists 3 member(s) but not the observer itself'],
    ['no expectations: any read listing its observer', ids(0), 'm-0', undefined, undefined],
    ['observer unknown: the count still counts', ids(1), undefined, 3, 'the ring read lists 1 member(s), fewer than the 3 expected'],
  ])('%s', (_name, ring, observer, min, problem) => {
    expect(ringReadProblem(ring, observer, min)).toBe(problem);
  });
});
