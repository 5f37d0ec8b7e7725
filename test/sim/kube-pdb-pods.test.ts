// The sim's per-PDB pod counts (kept from the store's events) against a walk of the pods, through label changes,
// readiness, termination, deletion and a changed selector.
import { describe, expect, it } from 'vitest';
import { pdbPods, type PdbPods } from '../../testbeds/sim/kube/pdb-pods.js';
import { podsForPdb } from '../../testbeds/sim/kube/pdb.js';
import type { KObject } from '../../testbeds/sim/kube/resources.js';
import { isTerminating, podReady } from '../../testbeds/sim/kube/rest.js';
import { ObjectStore } from '../../testbeds/sim/kube/store.js';

const pod = (name: string, labels: Record<string, string>, ready: boolean, owner?: string): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'ns',
    uid: `uid-${name}`,
    resourceVersion: '',
    creationTimestamp: '',
    labels,
    ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `uid-${owner}`, controller: true }] } : {}),
  },
  spec: { nodeName: 'n1' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

const pdb = (matchLabels: Record<string, string>): KObject => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'budget', namespace: 'ns', uid: 'uid-budget', resourceVersion: '', creationTimestamp: '' },
  spec: { maxUnavailable: 1, selector: { matchLabels } },
});

/** What the counts should be, from a walk of the pods the PDB selects. */
function walked(store: ObjectStore, budget: KObject) {
  const pods = podsForPdb(store, budget);
  const owners = new Map<string, number>();
  for (const p of pods) {
    const uid = p.metadata.ownerReferences?.[0]?.uid;
    if (uid) owners.set(uid, (owners.get(uid) ?? 0) + 1);
  }
  return {
    members: pods.map((p) => p.metadata.name).sort(),
    healthy: pods.filter((p) => !isTerminating(p) && podReady(p)).map((p) => p.metadata.name).sort(),
    owners: [...owners].sort(),
    bare: pods.filter((p) => !p.metadata.ownerReferences).length,
  };
}

const counted = (c: PdbPods) => ({
  members: [...c.members.values()].map((p) => p.metadata.name).sort(),
  healthy: [...c.healthy].map((k) => k.split('/')[1]!).sort(),
  owners: [...c.owners].map(([uid, [, n]]): [string, number] => [uid, n]).sort(),
  bare: c.bare,
});

describe('the pods a PodDisruptionBudget selects, counted from events', () => {
  it('match a walk of the pods after each kind of change', () => {
    const store = new ObjectStore();
    store.create('poddisruptionbudgets', pdb({ app: 'web' }));
    store.create('pods', pod('a', { app: 'web' }, true, 'rs1'));
    store.create('pods', pod('b', { app: 'web' }, false, 'rs1'));
    store.create('pods', pod('c', { app: 'db' }, true));
    const check = () => {
      const budget = store.peekOne('poddisruptionbudgets', 'ns', 'budget')!;
      expect(counted(pdbPods(store, budget, (b) => podsForPdb(store, b)))).toEqual(walked(store, budget));
    };
    check(); // built from a walk, then kept from the events below
    const update = (name: string, change: (p: KObject) => void) => {
      const p = store.get('pods', 'ns', name)!;
      change(p);
      store.update('pods', p);
      check();
    };
    update('b', (p) => (p.status.conditions = [{ type: 'Ready', status: 'True' }]));
    update('c', (p) => (p.metadata.labels = { app: 'web' }));
    update('a', (p) => (p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'));
    update('b', (p) => (p.metadata.labels = { app: 'other' }));
    store.create('pods', pod('d', { app: 'web' }, true, 'rs2'));
    check();
    store.remove('pods', 'ns', 'a');
    check();
    const budget = store.get('poddisruptionbudgets', 'ns', 'budget')!;
    budget.spec.selector = { matchLabels: { app: 'other' } };
    store.update('poddisruptionbudgets', budget);
    check();
    update('b', (p) => (p.status.conditions = [{ type: 'Ready', status: 'False' }]));
  });
});
