// The control loops of the simulated cluster, run together as one idempotent
// reconcile pass shortly after any change (and on timers for delayed transitions):
// node lifecycle (taints), pod GC, owner GC, Deployment, ReplicaSet, DaemonSet,
// StatefulSet, scheduler, kubelet (pod start/readiness), PodDisruptionBudget status.

import { shortHash, SIM_LABEL_DAEMONSETS_CRASH_LOOP, ts, type SimContext } from './context.js';
import { DirtySets, storeKey, type Dirty } from './dirty.js';
import { nodeReady, syncNodeTaints } from './nodes.js';
import { DISRUPTED_POD_TIMEOUT_MS, refreshPdb, scaled } from './pdb.js';
import { claimVolumes, ensureClaims } from './pvc.js';
import { rt, type KObject } from './resources.js';
import { isTerminating, podReady, setCondition, type KubeApi } from './rest.js';
import { nodeMatchesPod, untoleratedTaints, type Toleration } from './selectors.js';

export type Controller = (c: Controllers) => void;

const ctrlRef = (o: KObject) => o.metadata.ownerReferences?.find((r) => r.controller);
const ctrlUid = (o: KObject) => ctrlRef(o)?.uid;
const finished = (p: KObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const active = (p: KObject) => !isTerminating(p) && !finished(p);
/** namespace/name order, as the store lists (ties broken as before the controllers read unsorted). */
const keyOrder = (a: KObject, b: KObject): number => {
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** Tolerations the DaemonSet controller adds to its pods. */
/**
 * At most this many pods created, this many scheduled and this many started per reconcile pass: then the pass ends and
 * the next follows at once, so that 50,000 pods starting do not hold the sim's event loop (and every request) for
 * long. 500 (the ReplicaSet controller's burstReplicas) made a round of ~2,000 writes, ~500 ms (sim-scale: loop p99
 * 504 ms while pods start; 218 ms at 100, but 40,000 pods Ready in 22.8 s instead of 15.4 s).
 */
const BURST = 100;
/** Rounds of every loop per pass while they still change something; a pass that has not settled then yields. */
const PASS_ITERATIONS = 5;
/** A pass that has run this long yields after its current round too, so that requests wait for one round at most. */
const PASS_SLICE_MS = 50;
/** Rounds in all, over the passes that go on from one another, before the loops are left alone until the next change. */
const MAX_ROUNDS = 20;

const DAEMONSET_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

export class Controllers {
  private scheduled = false;
  private running = false;
  private readonly boundAt = new Map<string, number>();
  private readonly ipSeq = new Map<string, number>();
  private readonly extra: Controller[] = [];
  /**
   * The pods the kubelet is to look at in the next pass: changed, on a node whose readiness changed, or still
   * starting. Not every pod of the fleet in every pass.
   */
  private readonly kubeletDue = new Map<string, KObject>();
  /** What each other loop has to look at again: a round touches what changed, not the whole fleet. */
  private readonly dirty: DirtySets;

  constructor(readonly ctx: SimContext, readonly api: KubeApi) {
    this.dirty = new DirtySets(ctx.store);
    ctx.store.subscribe((e) => {
      this.dirty.note(e);
      if (e.type === 'DELETED' && e.resource === 'pods') this.boundAt.delete(e.object.metadata.uid);
      if (e.resource === 'pods' && e.type !== 'DELETED') this.kubeletDue.set(storeKey(e.object), e.object);
      if (e.resource === 'nodes' && e.type !== 'DELETED' && (e.type === 'ADDED' || nodeReady(e.old!) !== nodeReady(e.object))) {
        for (const p of ctx.store.scan('pods', { nodeName: e.object.metadata.name })) this.kubeletDue.set(storeKey(p), p);
      }
      this.kick();
    });
    for (const p of ctx.store.peek('pods')) this.kubeletDue.set(storeKey(p), p);
  }

  private get store() { return this.ctx.store; }

  /** Extra control loops (e.g. PersistentVolumeClaims for StatefulSets), run first in every pass. */
  add(c: Controller): void {
    this.extra.push(c);
  }

  kick(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    this.ctx.timers.after(this.ctx.timing.controllerDelayMs, () => {
      this.scheduled = false;
      this.reconcile();
    });
  }

  private createdThisPass = 0;
  private rounds = 0;
  private unsettled = false;

  reconcile(): void {
    if (this.running) return;
    this.running = true;
    this.createdThisPass = 0;
    if (!this.unsettled || this.more) this.rounds = 0;
    this.unsettled = false;
    const passStarted = performance.now();
    try {
      for (let i = 0; this.rounds < MAX_ROUNDS; i++, this.rounds++) {
        if (i === PASS_ITERATIONS || (i > 0 && performance.now() - passStarted > PASS_SLICE_MS)) {
          this.unsettled = true; // the next pass goes on after the event loop has served what waits
          break;
        }
        const before = this.store.resourceVersion;
        const { dirty } = this;
        const loops: [string, () => void, Dirty?][] = [
          ...this.extra.map((c, n): [string, () => void] => [`extra${n}`, () => c(this)]),
          ['nodes', () => this.nodeLifecycle(), dirty.nodes],
          ['podgc', () => this.podGC(), dirty.podGcNodes],
          ['ownergc', () => this.ownerGC(), dirty.owners],
          ['deployments', () => this.deployments(), dirty.deployments],
          ['replicasets', () => this.replicaSets(), dirty.replicaSets],
          ['daemonsets', () => this.daemonSets(), dirty.daemonSets],
          ['statefulsets', () => this.statefulSets(), dirty.statefulSets],
          ['scheduler', () => this.scheduler()],
          ['kubelet', () => this.kubelet()],
          ['pdbs', () => this.pdbs(), dirty.pdbs],
        ];
        for (const [name, fn, due] of loops) {
          try {
            fn();
          } catch (err) {
            due?.markAll(); // what it had taken is looked at again, with everything else
            console.error(`kube sim: ${name} controller failed`, err);
          }
        }
        if (this.store.resourceVersion === before || this.more) break;
      }
    } finally {
      this.running = false;
    }
    if (this.more || this.unsettled) {
      this.ctx.timers.after(0, () => {
        this.more = false;
        this.reconcile();
      }, 'burst');
    }
  }

  /** Store `obj` if it differs from the stored version. */
  save(plural: string, obj: KObject): void {
    const cur = this.store.peekOne(plural, obj.metadata.namespace, obj.metadata.name);
    if (!cur || cur.metadata.uid !== obj.metadata.uid) return;
    const next = { ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata.resourceVersion } };
    if (JSON.stringify(cur) !== JSON.stringify(next)) this.store.update(plural, next);
  }

  /** `save` of a loop's own object's status (see DirtySets.ownStatusWrite). */
  private saveStatus(plural: string, obj: KObject): void {
    this.dirty.ownStatusWrite(plural, obj, () => this.save(plural, obj));
  }

  /** Create a pod owned by `owner` from a pod template. */
  createPod(owner: KObject, template: KObject, meta: { name?: string; generateName?: string; labels?: Record<string, string> }, spec: Record<string, unknown> = {}): void {
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(meta.name ? { name: meta.name } : { generateName: meta.generateName }),
        namespace: owner.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), ...(meta.labels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...structuredClone(template.spec ?? {}), ...spec },
    };
    try {
      this.api.create(rt('pods'), owner.metadata.namespace, body);
    } catch (err) {
      console.error(`kube sim: cannot create pod for ${owner.kind} ${owner.metadata.name}`, err);
    }
  }

  /**
   * The pods `owner` controls, as stored: not copied, so never to be mutated (copy one to change it). The controllers
   * read through the store's indexes so that a pass does not copy or scan every pod of the fleet for each owner.
   */
  private podsOwnedBy(owner: KObject): KObject[] {
    return this.store.scan('pods', { ns: owner.metadata.namespace ?? '', ownerUid: owner.metadata.uid });
  }

  /** The stored objects of `plural` that `due` names (every one when it says so), emptying it. */
  private dueObjects(due: Dirty, plural: string): KObject[] {
    const keys = due.take();
    if (!keys) return this.store.scan(plural);
    const found: KObject[] = [];
    for (const k of keys) {
      const o = this.store.peekKey(plural, k);
      if (o) found.push(o);
    }
    return found;
  }

  // ---- node lifecycle, garbage collection ----

  private nodeLifecycle(): void {
    for (const n of this.dueObjects(this.dirty.nodes, 'nodes')) {
      const probe = { ...n, spec: { ...(n.spec ?? {}) } }; // syncNodeTaints replaces spec.taints, never mutates it
      if (syncNodeTaints(probe)) this.store.update('nodes', probe);
    }
  }

  private podGC(): void {
    // through the node index: the nodes pods are bound to, not every pod of the fleet
    for (const node of this.dirty.podGcNodes.take() ?? this.store.indexedValues('pods', 'node')) {
      if (this.store.has('nodes', undefined, node)) continue;
      for (const p of this.store.scan('pods', { nodeName: node })) this.store.remove('pods', p.metadata.namespace, p.metadata.name);
    }
  }

  private ownerGC(): void {
    const owners = this.dirty.liveOwners;
    const known = new Set(['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Node']);
    const due = this.dirty.owners.take();
    for (const plural of ['replicasets', 'pods']) {
      const gone = (due ? [...due] : this.store.indexedValues(plural, 'owner')).filter((uid) => !owners.has(uid));
      const orphans = gone.flatMap((uid) => this.store.scan(plural, { ownerUid: uid }, (o) => known.has(ctrlRef(o)!.kind)));
      for (const o of orphans) {
        if (plural === 'pods') this.api.terminatePod(structuredClone(o));
        else this.store.remove(plural, o.metadata.namespace, o.metadata.name);
      }
    }
  }

  // ---- workloads ----

  private deployments(): void {
    const now = this.ctx.now();
    // a ReplicaSet's pods counted once per Deployment looked at (its pods do not change while it is)
    let counts = new Map<string, { ready: number; available: number; count: number }>();
    const countsOf = (rs: KObject) => {
      let c = counts.get(rs.metadata.uid);
      if (!c && (rs.spec?.minReadySeconds ?? 0) === 0) {
        // every Ready pod available at once: the counts kept from the pods' events
        const owned = this.dirty.ownedPods.get(rs.metadata.uid) ?? { active: 0, ready: 0 };
        c = { ready: owned.ready, available: owned.ready, count: owned.active };
        counts.set(rs.metadata.uid, c);
      }
      if (!c) {
        const pods = this.podsOwnedBy(rs);
        c = { ready: pods.filter((p) => active(p) && podReady(p)).length, available: this.availableOf(pods, rs), count: pods.filter(active).length };
        counts.set(rs.metadata.uid, c);
      }
      return c;
    };
    const ready = (rs: KObject) => countsOf(rs).ready;
    const available = (rs: KObject) => countsOf(rs).available;
    const count = (rs: KObject) => countsOf(rs).count;
    const rev = (rs: KObject) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    for (const d of this.dueObjects(this.dirty.deployments, 'deployments')) {
      if (isTerminating(d)) continue;
      counts = new Map();
      const ns = d.metadata.namespace!;
      // copies: setReplicas below changes them
      const owned = this.store.list('replicasets', undefined, undefined, { ns, ownerUid: d.metadata.uid });
      const hash = shortHash(d.spec.template);
      const desired: number = d.spec.replicas ?? 1;
      const maxRev = Math.max(0, ...owned.map(rev));
      let newRs = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
      const olds = owned.filter((rs) => rs !== newRs).sort((a, b) => rev(a) - rev(b));
      const recreate = d.spec.strategy?.type === 'Recreate';
      const setReplicas = (rs: KObject, n: number) => {
        if ((rs.spec.replicas ?? 0) === n) return;
        rs.spec.replicas = n;
        rs.metadata.generation = (rs.metadata.generation ?? 1) + 1;
        rs.metadata.annotations = { ...(rs.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': String(desired) };
        this.save('replicasets', rs);
      };
      if (newRs && (newRs.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0)) {
        // the real controller keeps the new ReplicaSet's minReadySeconds in step with the Deployment's (old ones keep theirs)
        newRs.spec.minReadySeconds = d.spec.minReadySeconds ?? 0;
        this.save('replicasets', newRs);
      }
      if (!d.spec.paused) {
        const oldsActive = olds.some((rs) => (rs.spec.replicas ?? 0) > 0);
        if (!newRs) {
          const template = structuredClone(d.spec.template);
          template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
          const sel = structuredClone(d.spec.selector);
          sel.matchLabels = { ...(sel.matchLabels ?? {}), 'pod-template-hash': hash };
          newRs = this.api.create(rt('replicasets'), ns, {
            metadata: {
              name: `${d.metadata.name}-${hash}`,
              namespace: ns,
              labels: template.metadata.labels,
              annotations: { 'deployment.kubernetes.io/revision': String(maxRev + 1), 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired) },
              ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
            },
            spec: { replicas: oldsActive ? 0 : desired, minReadySeconds: d.spec.minReadySeconds ?? 0, selector: sel, template },
          });
        } else if (rev(newRs) < maxRev) {
          newRs.metadata.annotations = { ...(newRs.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': String(maxRev + 1) };
          this.save('replicasets', newRs);
        }
        if (recreate) {
          for (const rs of olds) setReplicas(rs, 0);
          const oldPods = olds.some((rs) => this.podsOwnedBy(rs).length > 0);
          setReplicas(newRs, oldPods ? 0 : desired);
        } else if (!oldsActive) {
          setReplicas(newRs, desired);
        } else {
          const ru = d.spec.strategy?.rollingUpdate ?? {};
          const surge = scaled(ru.maxSurge ?? '25%', desired, true);
          let unavailable = scaled(ru.maxUnavailable ?? '25%', desired, false);
          if (surge === 0 && unavailable === 0) unavailable = 1;
          const total = owned.reduce((s, rs) => s + (rs.spec.replicas ?? 0), 0);
          const room = desired + surge - total;
          const cur = newRs.spec.replicas ?? 0;
          if (cur > desired) setReplicas(newRs, desired);
          else if (cur < desired && room > 0) setReplicas(newRs, Math.min(desired, cur + room));
          let canDrop = owned.reduce((s, rs) => s + available(rs), 0) - (desired - unavailable);
          for (const rs of olds) {
            const r = rs.spec.replicas ?? 0;
            if (r === 0) continue;
            let drop = Math.min(r, Math.max(0, r - available(rs))); // unavailable replicas go for free
            const paid = Math.min(r - drop, Math.max(0, canDrop));
            drop += paid;
            canDrop -= paid;
            if (drop > 0) setReplicas(rs, r - drop);
          }
        }
      }
      // status
      const all = [...olds, ...(newRs ? [newRs] : [])];
      const readyTotal = all.reduce((s, rs) => s + ready(rs), 0);
      const availableTotal = all.reduce((s, rs) => s + available(rs), 0);
      const updated = newRs ? count(newRs) : 0;
      const replicas = all.reduce((s, rs) => s + count(rs), 0);
      const ru = d.spec.strategy?.rollingUpdate ?? {};
      const maxUnavailable = recreate ? desired : scaled(ru.maxUnavailable ?? '25%', desired, false);
      const st = structuredClone(d.status ?? {});
      Object.assign(st, {
        observedGeneration: d.metadata.generation,
        replicas,
        updatedReplicas: updated,
        readyReplicas: readyTotal,
        availableReplicas: availableTotal,
      });
      const unavailableReplicas = Math.max(0, desired - availableTotal);
      if (unavailableReplicas > 0) st.unavailableReplicas = unavailableReplicas;
      else delete st.unavailableReplicas;
      for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas']) if (st[k] === 0) delete st[k];
      setCondition(st, availableTotal >= desired - maxUnavailable
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, now);
      const complete = updated === desired && replicas === desired && availableTotal === desired;
      setCondition(st, {
        type: 'Progressing',
        status: 'True',
        reason: complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
        message: newRs ? `ReplicaSet "${newRs.metadata.name}" ${complete ? 'has successfully progressed.' : 'is progressing.'}` : '',
      }, now);
      this.saveStatus('deployments', { ...d, status: st });
    }
  }

  /**
   * A ReplicaSet's available pods: ready for at least its minReadySeconds (by the Ready condition's
   * lastTransitionTime). A pod ready but not yet available brings a reconcile back when it becomes so.
   */
  private availableOf(pods: KObject[], rs: KObject): number {
    const minReadyMs = (rs.spec?.minReadySeconds ?? 0) * 1000;
    const nowMs = this.ctx.now().getTime();
    let n = 0;
    for (const p of pods) {
      if (!active(p) || !podReady(p)) continue;
      if (minReadyMs === 0) {
        n++;
        continue;
      }
      const since = Date.parse((p.status?.conditions as { type: string; lastTransitionTime?: string }[]).find((c) => c.type === 'Ready')?.lastTransitionTime ?? '');
      const due = (Number.isNaN(since) ? nowMs : since) + minReadyMs;
      if (due <= nowMs) n++;
      else {
        this.ctx.timers.after(due - nowMs + 1, () => {
          this.dirty.replicaSetAndDeployment(rs);
          this.kick();
        }, `available:${p.metadata.uid}:${due}`);
      }
    }
    return n;
  }

  private replicaSets(): void {
    for (const rs of this.dueObjects(this.dirty.replicaSets, 'replicasets')) {
      if (isTerminating(rs)) continue;
      // a copy: the counts follow the pods this loop creates or ends
      const owned = { ...(this.dirty.ownedPods.get(rs.metadata.uid) ?? { active: 0, ready: 0 }) };
      const want: number = rs.spec.replicas ?? 1;
      let created = 0;
      if (owned.active < want) {
        const room = Math.max(0, BURST - this.createdThisPass);
        if (want - owned.active > room) {
          this.more = true;
          this.dirty.replicaSets.add(storeKey(rs)); // the rest in the next pass
        }
        for (let i = owned.active; i < Math.min(want, owned.active + room); i++, created++) this.createPod(rs, rs.spec.template, { generateName: `${rs.metadata.name}-` });
        this.createdThisPass += created;
      } else if (owned.active > want) {
        const mine = this.podsOwnedBy(rs).filter(active);
        // real ranking: unassigned < pending < not ready < ready; newer first
        const rank = (p: KObject) => (p.spec?.nodeName ? 1 : 0) * 4 + (p.status?.phase === 'Running' ? 1 : 0) * 2 + (podReady(p) ? 1 : 0);
        const victims = [...mine].sort((a, b) => rank(a) - rank(b) || b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp)).slice(0, mine.length - want);
        for (const p of victims) this.api.terminatePod(p);
      }
      const kept = owned.active > want ? { ...(this.dirty.ownedPods.get(rs.metadata.uid) ?? { active: 0, ready: 0 }) } : owned;
      const readyN = kept.ready;
      const status: Record<string, unknown> = {
        replicas: kept.active + created,
        fullyLabeledReplicas: kept.active + created,
        readyReplicas: readyN,
        availableReplicas: (rs.spec?.minReadySeconds ?? 0) === 0 ? readyN : this.availableOf(this.podsOwnedBy(rs).filter(active), rs),
        observedGeneration: rs.metadata.generation,
      };
      for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if (status[k] === 0) delete status[k];
      this.saveStatus('replicasets', { ...rs, status });
    }
  }

  private daemonSets(): void {
    const nodes = this.store.scan('nodes');
    for (const ds of this.dueObjects(this.dirty.daemonSets, 'daemonsets')) {
      if (isTerminating(ds)) continue;
      const template = ds.spec.template;
      const hash = shortHash(template);
      const tolerations: Toleration[] = [...(template.spec?.tolerations ?? [])];
      for (const t of DAEMONSET_TOLERATIONS) if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push(t);
      const eligible = nodes.filter((n) => nodeMatchesPod(n, template.spec ?? {}) && untoleratedTaints(n.spec?.taints, tolerations).length === 0);
      const eligibleNames = new Set(eligible.map((n) => n.metadata.name));
      const mine = this.podsOwnedBy(ds).filter(active);
      const byNode = new Map<string, KObject[]>();
      for (const p of mine) {
        const list = byNode.get(p.spec?.nodeName ?? '') ?? [];
        list.push(p);
        byNode.set(p.spec?.nodeName ?? '', list);
      }
      for (const n of eligible) {
        const onNode = byNode.get(n.metadata.name) ?? [];
        if (onNode.length === 0 && this.createdThisPass >= BURST) {
          this.more = true;
          this.dirty.daemonSets.add(storeKey(ds)); // the rest in the next pass
        }
        else if (onNode.length === 0) {
          this.createdThisPass++;
          this.createPod(ds, template, { generateName: `${ds.metadata.name}-`, labels: { 'controller-revision-hash': hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) } }, { nodeName: n.metadata.name, tolerations });
        }
        for (const extra of onNode.slice(1)) this.api.terminatePod(extra);
      }
      let misscheduled = 0;
      for (const [node, list] of byNode) {
        if (eligibleNames.has(node)) continue;
        misscheduled += list.length;
        for (const p of list) this.api.terminatePod(p);
      }
      // rolling update: replace pods of an older template while staying within maxUnavailable
      const current = this.podsOwnedBy(ds).filter(active).filter((p) => eligibleNames.has(p.spec?.nodeName));
      if (ds.spec.updateStrategy?.type !== 'OnDelete') {
        const maxUnavailable = Math.max(1, scaled(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, eligible.length, false));
        let unavailable = eligible.length - current.filter(podReady).length;
        const old = current.filter((p) => p.metadata.labels?.['controller-revision-hash'] !== hash).sort((a, b) => Number(podReady(a)) - Number(podReady(b)));
        for (const p of old) {
          if (podReady(p)) {
            if (unavailable >= maxUnavailable) break;
            unavailable++;
          }
          this.api.terminatePod(p);
        }
      }
      const readyN = current.filter(podReady).length;
      const status: Record<string, unknown> = {
        currentNumberScheduled: eligible.filter((n) => (byNode.get(n.metadata.name) ?? []).length > 0).length,
        desiredNumberScheduled: eligible.length,
        numberMisscheduled: misscheduled,
        numberReady: readyN,
        numberAvailable: readyN,
        numberUnavailable: Math.max(0, eligible.length - readyN),
        updatedNumberScheduled: current.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash).length,
        observedGeneration: ds.metadata.generation,
      };
      for (const k of ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled']) if (status[k] === 0) delete status[k];
      this.saveStatus('daemonsets', { ...ds, status });
    }
  }

  private statefulSets(): void {
    for (const sts of this.dueObjects(this.dirty.statefulSets, 'statefulsets')) {
      if (isTerminating(sts)) continue;
      const name = sts.metadata.name;
      const revision = `${name}-${shortHash(sts.spec.template)}`;
      const replicas: number = sts.spec.replicas ?? 1;
      const parallel = sts.spec.podManagementPolicy === 'Parallel';
      const byOrd = new Map<number, KObject>();
      for (const p of this.podsOwnedBy(sts)) {
        const m = new RegExp(`^${name.replace(/\./g, '\\.')}-(\\d+)$`).exec(p.metadata.name);
        if (m) byOrd.set(Number(m[1]), p);
      }
      const createOrd = (i: number) => {
        const podName = `${name}-${i}`;
        ensureClaims(this.api, this.store, sts, i); // claims from volumeClaimTemplates first, never deleted on scale-down
        const claims = claimVolumes(sts, i);
        const volumes = claims.length ? { volumes: [...((sts.spec.template?.spec?.volumes ?? []) as unknown[]), ...claims] } : {};
        this.createPod(sts, sts.spec.template, {
          name: podName,
          labels: { 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(i) },
        }, { hostname: podName, ...(sts.spec.serviceName ? { subdomain: sts.spec.serviceName } : {}), ...volumes });
      };
      let steady = true;
      for (let i = 0; i < replicas; i++) {
        const p = byOrd.get(i);
        if (!p) {
          createOrd(i);
          steady = false;
          if (parallel) continue;
          break;
        }
        if (isTerminating(p)) {
          steady = false;
          if (parallel) continue;
          break;
        }
        if (finished(p)) {
          this.api.terminatePod(p, 0);
          steady = false;
          if (parallel) continue;
          break;
        }
        if (!podReady(p)) {
          steady = false;
          if (!parallel) break;
        }
      }
      const extras = [...byOrd.entries()].filter(([i, p]) => i >= replicas && !isTerminating(p)).sort((a, b) => b[0] - a[0]);
      const anyTerminating = [...byOrd.values()].some(isTerminating);
      if (parallel) for (const [, p] of extras) this.api.terminatePod(p);
      else if (extras.length > 0 && steady && !anyTerminating) this.api.terminatePod(extras[0]![1]);
      // rolling update: highest ordinal first, one at a time, when everything is ready
      const partition: number = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
      if (sts.spec.updateStrategy?.type !== 'OnDelete' && steady && !anyTerminating && extras.length === 0) {
        for (let i = replicas - 1; i >= partition; i--) {
          const p = byOrd.get(i);
          if (p && p.metadata.labels?.['controller-revision-hash'] !== revision) {
            this.api.terminatePod(p);
            break;
          }
        }
      }
      const live = this.podsOwnedBy(sts).filter(active);
      const readyN = live.filter(podReady).length;
      const rev = (p: KObject) => p.metadata.labels?.['controller-revision-hash'];
      const updatedN = live.filter((p) => rev(p) === revision).length;
      const currentRevision: string = updatedN === live.length && steady ? revision : (sts.status?.currentRevision ?? revision);
      const status: Record<string, unknown> = {
        observedGeneration: sts.metadata.generation,
        replicas: live.length,
        readyReplicas: readyN,
        currentReplicas: live.filter((p) => rev(p) === currentRevision).length,
        updatedReplicas: updatedN,
        currentRevision,
        updateRevision: revision,
        collisionCount: 0,
        availableReplicas: readyN,
      };
      for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas']) if (status[k] === 0) delete status[k];
      this.saveStatus('statefulsets', { ...sts, status });
    }
  }

  // ---- scheduler & kubelet ----

  private scheduler(): void {
    const pending = this.store
      .scan('pods', { nodeName: '' }, (p) => !p.spec?.nodeName && active(p) && (p.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler')
      .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || keyOrder(a, b));
    if (pending.length === 0) return;
    if (pending.length > BURST) this.more = true;
    const nodes = this.store.scan('nodes').sort(keyOrder);
    const load = new Map(this.dirty.podsOnNode); // this pass's bindings count on a copy, as they are saved one by one
    const now = this.ctx.now();
    // the nodes a pod fits depend only on its tolerations and node selection: computed once per kind of pod per pass
    const fitting = new Map<string, { fits: KObject[]; why: Record<'notReady' | 'unschedulable' | 'taints' | 'selector', number> }>();
    for (const stored of pending.slice(0, BURST)) {
      const p = structuredClone(stored);
      const kind = JSON.stringify([p.spec?.tolerations, p.spec?.nodeSelector, p.spec?.affinity]);
      const known = fitting.get(kind) ?? { fits: [], why: { notReady: 0, unschedulable: 0, taints: 0, selector: 0 } };
      if (!fitting.has(kind)) {
        const why = known.why;
        known.fits = nodes.filter((n) => {
          if (!nodeReady(n)) return void why.notReady++, false;
          if (n.spec?.unschedulable) return void why.unschedulable++, false;
          if (untoleratedTaints(n.spec?.taints, p.spec?.tolerations).length) return void why.taints++, false;
          if (!nodeMatchesPod(n, p.spec ?? {})) return void why.selector++, false;
          return true;
        });
        fitting.set(kind, known);
      }
      const { why } = known;
      const fits = [...known.fits];
      const st = (p.status ??= {});
      if (fits.length === 0) {
        const parts = [
          why.notReady && `${why.notReady} node(s) were not ready`,
          why.unschedulable && `${why.unschedulable} node(s) were unschedulable`,
          why.taints && `${why.taints} node(s) had untolerated taint(s)`,
          why.selector && `${why.selector} node(s) didn't match Pod's node affinity/selector`,
        ].filter(Boolean);
        setCondition(st, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: `0/${nodes.length} nodes are available: ${parts.join(', ') || 'no nodes available to schedule pods'}.` }, now, { lastProbeTime: null as unknown as string });
        this.save('pods', p);
        continue;
      }
      fits.sort((a, b) => (load.get(a.metadata.name) ?? 0) - (load.get(b.metadata.name) ?? 0) || a.metadata.name.localeCompare(b.metadata.name));
      const node = fits[0]!;
      p.spec.nodeName = node.metadata.name;
      setCondition(st, { type: 'PodScheduled', status: 'True' }, now, { lastProbeTime: null as unknown as string });
      load.set(node.metadata.name, (load.get(node.metadata.name) ?? 0) + 1);
      this.save('pods', p);
    }
  }

  /** Work was left for the next pass (BURST reached): the pass ends and another follows at once. */
  private more = false;

  private podIP(node: KObject): string {
    const n = (this.ipSeq.get(node.metadata.name) ?? 1) + 1;
    this.ipSeq.set(node.metadata.name, n);
    const m = /^10\.244\.(\d+)\.0\/24$/.exec(node.spec?.podCIDR ?? '');
    return m ? `10.244.${m[1]}.${((n - 2) % 253) + 2}` : `10.244.255.${((n - 2) % 253) + 2}`;
  }

  private kubelet(): void {
    const nowMs = Date.now();
    const now = this.ctx.now();
    const toCheck = [...this.kubeletDue.values()];
    this.kubeletDue.clear();
    const changedBefore = this.store.resourceVersion;
    for (let i = 0; i < toCheck.length; i++) {
      if (Number(this.store.resourceVersion) - Number(changedBefore) >= BURST) {
        // at most BURST pods started or changed per round, as pods created and scheduled: the rest in the next
        for (const rest of toCheck.slice(i)) this.kubeletDue.set(storeKey(rest), rest);
        this.more = true;
        break;
      }
      const seen = toCheck[i]!;
      const stored = this.store.peekOne('pods', seen.metadata.namespace, seen.metadata.name);
      if (!stored) continue;
      let p = stored; // copied below before it is changed
      const node = p.spec?.nodeName ? this.store.peekOne('nodes', undefined, p.spec.nodeName) : undefined;
      if (!node || !active(p)) continue;
      const ready = nodeReady(node);
      const uid = p.metadata.uid;
      if (p.status?.phase === 'Pending') {
        if (!ready) {
          this.boundAt.delete(uid);
          continue;
        }
        let t0 = this.boundAt.get(uid);
        if (t0 === undefined) this.boundAt.set(uid, (t0 = nowMs));
        const due = t0 + this.ctx.faults.podStartDelayMs;
        if (nowMs < due) {
          // One pass for every pod due at once (bound in the same pass): one timer per pod made a fleet's start quadratic.
          this.ctx.timers.after(due - nowMs + 1, () => this.reconcile(), `start-at:${due}`);
          this.kubeletDue.set(storeKey(p), p); // still starting: looked at again
          continue;
        }
        p = structuredClone(stored);
        const hostIP = (node.status?.addresses as { type: string; address: string }[] | undefined)?.find((a) => a.type === 'InternalIP')?.address;
        const podIP = p.spec.hostNetwork ? hostIP : this.podIP(node);
        const st = (p.status ??= {});
        st.phase = 'Running';
        st.startTime ??= ts(now);
        if (hostIP) {
          st.hostIP = hostIP;
          st.hostIPs = [{ ip: hostIP }];
        }
        if (podIP) {
          st.podIP = podIP;
          st.podIPs = [{ ip: podIP }];
        }
        for (const type of ['PodReadyToStartContainers', 'Initialized', 'PodScheduled']) {
          setCondition(st, { type, status: 'True' }, now, type === 'PodReadyToStartContainers' ? {} : { lastProbeTime: null as unknown as string });
        }
        const dsCrash = node.metadata.labels?.[SIM_LABEL_DAEMONSETS_CRASH_LOOP] === 'true' && p.metadata.ownerReferences?.some((o: { kind: string }) => o.kind === 'DaemonSet');
        const crashing = (image: string) => dsCrash || (this.ctx.faults.crashLoopImages ?? []).includes(image);
        st.containerStatuses = ((p.spec.containers ?? []) as { name: string; image: string }[]).map((c, i) => ({
          name: c.name,
          image: c.image,
          imageID: `${c.image}@sha256:${shortHash(c.image).padEnd(64, '0')}`,
          containerID: `containerd://${shortHash(`${uid}/${i}`).padEnd(64, '0')}`,
          ...(crashing(c.image)
            ? { ready: false, started: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 1m20s restarting failed container=${c.name}` } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }
            : { ready: true, started: true, restartCount: 0, state: { running: { startedAt: ts(now) } }, lastState: {} }),
        }));
        const serving = ready && !((p.spec.containers ?? []) as { image: string }[]).some((c) => crashing(c.image));
        setCondition(st, { type: 'ContainersReady', status: serving ? 'True' : 'False' }, now, { lastProbeTime: null as unknown as string });
        setCondition(st, { type: 'Ready', status: serving ? 'True' : 'False' }, now, { lastProbeTime: null as unknown as string });
        this.save('pods', p);
      } else if (p.status?.phase === 'Running' && podReady(p) !== ready && !(p.status.containerStatuses as { state?: { waiting?: unknown } }[] | undefined)?.some((c) => c.state?.waiting)) {
        p = structuredClone(stored);
        const st = p.status;
        const reason = ready ? undefined : 'ContainersNotReady';
        setCondition(st, { type: 'ContainersReady', status: ready ? 'True' : 'False', reason }, now, { lastProbeTime: null as unknown as string });
        setCondition(st, { type: 'Ready', status: ready ? 'True' : 'False', reason }, now, { lastProbeTime: null as unknown as string });
        for (const cs of (st.containerStatuses ?? []) as { ready: boolean }[]) cs.ready = ready;
        this.save('pods', p);
      }
    }
  }

  private pdbs(): void {
    const now = this.ctx.now();
    for (const pdb of this.dueObjects(this.dirty.pdbs, 'poddisruptionbudgets')) {
      const stored = this.dirty.ownStatusWrite('poddisruptionbudgets', pdb, () => refreshPdb(this.store, pdb, now));
      // a disrupted pod's entry is forgotten after a timeout: the budget is looked at again then
      for (const at of Object.values((stored.status?.disruptedPods ?? {}) as Record<string, string>)) {
        const due = Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS;
        if (Number.isNaN(due)) continue;
        this.ctx.timers.after(due - now.getTime() + 1, () => {
          this.dirty.pdbs.add(storeKey(pdb));
          this.kick();
        }, `disrupted:${pdb.metadata.uid}:${due}`);
      }
    }
  }
}
