// PodDisruptionBudget status, computed the way the disruption controller does.

import type { KObject } from './resources.js';
import { isTerminating, setCondition } from './rest.js';
import { pdbPods, type PdbPods } from './pdb-pods.js';
import { matchesSelector } from './selectors.js';
import type { ObjectStore } from './store.js';

/** Entries in status.disruptedPods older than this are forgotten (DeletionTimeout in the controller). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60 * 1000;

/** The pods a PDB selects, as stored (not copied: read only), found through the label index of its matchLabels. */
export function podsForPdb(store: ObjectStore, pdb: KObject): KObject[] {
  const labels = Object.entries((pdb.spec?.selector?.matchLabels ?? {}) as Record<string, string>);
  return store.scan('pods', { ns: pdb.metadata.namespace, labels }, (p) => matchesSelector(pdb.spec?.selector, p.metadata.labels));
}

/** Copies: the eviction updates what it gets. */
export function pdbsForPod(store: ObjectStore, pod: KObject): KObject[] {
  return store.list('poddisruptionbudgets', pod.metadata.namespace, (b) => matchesSelector(b.spec?.selector, pod.metadata.labels));
}

/** int or "NN%" scaled against total, rounded up (GetScaledValueFromIntOrPercent(..., true)). */
export function scaled(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) {
    const x = (parseInt(v, 10) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  if (typeof v === 'string' && /^\d+$/.test(v)) return parseInt(v, 10);
  return 0;
}

/** Sum of the scale of the pods' controllers (Deployment via ReplicaSet, ReplicaSet, StatefulSet; DaemonSet desired count; bare pods count 1). */
function expectedScale(store: ObjectStore, ns: string | undefined, { owners, bare }: PdbPods): number {
  const seen = new Set<string>();
  let total = bare;
  for (const [uid, [ref]] of owners) {
    seen.add(uid);
    if (ref.kind === 'ReplicaSet') {
      const rs = store.peekOne('replicasets', ns, ref.name);
      const dref = rs?.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
      const d = dref ? store.peekOne('deployments', ns, dref.name) : undefined;
      if (d) {
        if (!seen.has(d.metadata.uid)) total += d.spec?.replicas ?? 1;
        seen.add(d.metadata.uid);
      } else total += rs?.spec?.replicas ?? 0;
    } else if (ref.kind === 'StatefulSet') total += store.peekOne('statefulsets', ns, ref.name)?.spec?.replicas ?? 0;
    else if (ref.kind === 'DaemonSet') total += store.peekOne('daemonsets', ns, ref.name)?.status?.desiredNumberScheduled ?? 0;
    else total += 1;
  }
  return total;
}

export function computePdbStatus(store: ObjectStore, pdb: KObject, now: Date): Record<string, unknown> {
  const ns = pdb.metadata.namespace;
  const pods = pdbPods(store, pdb, (b) => podsForPdb(store, b));
  const spec = pdb.spec ?? {};
  let expected: number;
  let desired: number;
  if (spec.maxUnavailable !== undefined) {
    expected = expectedScale(store, ns, pods);
    desired = Math.max(0, expected - scaled(spec.maxUnavailable, expected, true));
  } else if (typeof spec.minAvailable === 'string' && spec.minAvailable.endsWith('%')) {
    expected = expectedScale(store, ns, pods);
    desired = scaled(spec.minAvailable, expected, true);
  } else {
    expected = pods.members.size;
    desired = scaled(spec.minAvailable ?? 1, expected, true);
  }
  // disruptedPods: forget pods that are gone, already deleting, or too old
  const disrupted: Record<string, string> = {};
  let disruptedHealthy = 0;
  for (const [name, at] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
    const p = pods.members.get(`${ns ?? ''}/${name}`);
    if (!p || isTerminating(p)) continue;
    if (Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS < now.getTime()) continue;
    disrupted[name] = at;
    if (pods.healthy.has(`${ns ?? ''}/${name}`)) disruptedHealthy++;
  }
  // the selected pods neither terminating nor disrupted, and Ready
  const healthy = pods.healthy.size - disruptedHealthy;
  const allowed = Math.max(0, healthy - desired);
  const status: Record<string, unknown> = {
    observedGeneration: pdb.metadata.generation ?? 1,
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
  };
  if (Object.keys(disrupted).length > 0) status['disruptedPods'] = disrupted;
  const conds = { conditions: structuredClone(pdb.status?.conditions ?? []) };
  setCondition(conds, allowed > 0
    ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' }
    : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' }, now);
  for (const c of conds.conditions) c['observedGeneration'] = pdb.metadata.generation ?? 1;
  status['conditions'] = conds.conditions;
  return status;
}

/** Recompute and store a PDB's status; returns the stored PDB. */
export function refreshPdb(store: ObjectStore, pdb: KObject, now: Date): KObject {
  const status = computePdbStatus(store, pdb, now);
  if (JSON.stringify(status) === JSON.stringify(pdb.status)) return pdb;
  return store.update('poddisruptionbudgets', { ...pdb, status });
}
