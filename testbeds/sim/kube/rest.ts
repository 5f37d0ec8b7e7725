// REST semantics of the API server, independent of HTTP: validation, defaulting,
// metadata bookkeeping, optimistic concurrency, graceful pod deletion, scale.

import { randomUUID } from 'node:crypto';
import { randSuffix, ts, type SimContext } from './context.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { groupVersion, resourceByKind, rt as resource, type KObject, type ResourceType } from './resources.js';
import { matchesSelector, parseFieldSelector, parseLabelSelector, selectorToString } from './selectors.js';
import { errors } from './status.js';
import { claimInUse, defaultClaim } from './pvc.js';
import type { Narrow } from './store.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType {
  const ct = (contentType ?? '').split(';')[0]!.trim();
  switch (ct) {
    case 'application/json-patch+json': return 'json';
    case 'application/merge-patch+json': return 'merge';
    case 'application/strategic-merge-patch+json': return 'strategic';
    case 'application/apply-patch+yaml': return 'apply';
    default: throw errors.unsupportedMediaType(ct);
  }
}

export interface ListOptions { labelSelector?: string | null; fieldSelector?: string | null }

export const isTerminating = (o: KObject): boolean => !!o.metadata.deletionTimestamp;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class KubeApi {
  constructor(private readonly ctx: SimContext) {
    for (const ns of SYSTEM_NAMESPACES) this.create(resource('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }

  private get store() { return this.ctx.store; }

  get(rt: ResourceType, ns: string | undefined, name: string): KObject {
    const o = this.store.get(rt.plural, rt.namespaced ? ns : undefined, name);
    if (!o) throw errors.notFound(rt.plural, rt.group, name);
    return o;
  }

  /** Sorted by namespace/name; `copy: false` for what is serialized at once and never mutated (a list's response). */
  list(rt: ResourceType, ns: string | undefined, opts: ListOptions = {}, { copy = true } = {}): KObject[] {
    const lm = parseLabelSelector(opts.labelSelector);
    const fm = parseFieldSelector(opts.fieldSelector, rt.plural);
    const narrow = selectorNarrowing(opts);
    return copy
      ? this.store.list(rt.plural, rt.namespaced ? ns : undefined, (o) => lm(o.metadata.labels) && fm(o), narrow)
      : this.store.sorted(rt.plural, rt.namespaced ? ns : undefined, (o) => lm(o.metadata.labels) && fm(o), narrow);
  }

  create(rt: ResourceType, ns: string | undefined, body: unknown): KObject {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('expected a JSON object');
    const obj = structuredClone(body) as KObject;
    if (obj.kind && obj.kind !== rt.kind) throw errors.badRequest(`the kind of the provided object (${obj.kind}) does not match the resource (${rt.kind})`);
    obj.apiVersion = groupVersion(rt);
    obj.kind = rt.kind;
    const meta = (obj.metadata ??= {} as KObject['metadata']);
    if (rt.namespaced) {
      const objNs = meta.namespace ?? ns ?? 'default';
      if (ns !== undefined && meta.namespace !== undefined && meta.namespace !== ns) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (!this.store.has('namespaces', undefined, objNs)) throw errors.notFound('namespaces', '', objNs);
      meta.namespace = objNs;
    } else delete meta.namespace;
    if (!meta.name) {
      if (!meta.generateName) throw errors.invalid(rt.kind, '', 'metadata.name: Required value: name or generateName is required');
      meta.name = meta.generateName + randSuffix();
    }
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) {
      throw errors.invalid(rt.kind, meta.name, `metadata.name: Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
    }
    if (this.store.has(rt.plural, meta.namespace, meta.name)) throw errors.alreadyExists(rt.plural, rt.group, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp ??= ts(this.ctx.now());
    delete meta.deletionTimestamp;
    delete (meta as Partial<KObject['metadata']>).resourceVersion;
    if (rt.hasGeneration) meta.generation = 1;
    applyDefaults(obj);
    validate(obj);
    return this.store.create(rt.plural, obj);
  }

  /** PUT. `sub` is 'status' for the status subresource. */
  update(rt: ResourceType, ns: string | undefined, name: string, body: unknown, sub?: 'status'): KObject {
    if (!body || typeof body !== 'object') throw errors.badRequest('expected a JSON object');
    const next = structuredClone(body) as KObject;
    if (next.metadata?.name !== undefined && next.metadata.name !== name) throw errors.badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    return this.commit(rt, this.get(rt, ns, name), next, sub);
  }

  patch(rt: ResourceType, ns: string | undefined, name: string, type: PatchType, patch: unknown, sub?: 'status'): KObject {
    let old: KObject;
    try {
      old = this.get(rt, ns, name);
    } catch (e) {
      // server-side apply creates
      if (type === 'apply' && !sub) return this.create(rt, ns, { ...(patch as object), metadata: { ...((patch as KObject).metadata ?? {}), name } });
      throw e;
    }
    const next = applyPatch(old, type, patch) as KObject;
    if (type !== 'json' && !(patch as KObject)?.metadata?.resourceVersion) next.metadata.resourceVersion = old.metadata.resourceVersion;
    return this.commit(rt, old, next, sub);
  }

  /** Write `next` over `old` as the API server would: immutable metadata kept, rv precondition, generation, status split. */
  private commit(rt: ResourceType, old: KObject, next: KObject, sub?: 'status'): KObject {
    if (!next || typeof next !== 'object' || Array.isArray(next)) throw errors.badRequest('expected a JSON object');
    const rv = next.metadata?.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw errors.conflict(rt.plural, rt.group, old.metadata.name);
    let result: KObject;
    if (sub === 'status') {
      result = { ...old, status: next.status };
    } else {
      result = { ...next, apiVersion: old.apiVersion, kind: old.kind };
      result.metadata = {
        ...(next.metadata ?? {}),
        name: old.metadata.name,
        uid: old.metadata.uid,
        creationTimestamp: old.metadata.creationTimestamp,
        resourceVersion: old.metadata.resourceVersion,
      };
      if (old.metadata.namespace) result.metadata.namespace = old.metadata.namespace;
      else delete result.metadata.namespace;
      if (old.metadata.deletionTimestamp) result.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
      else delete result.metadata.deletionTimestamp;
      if (old.metadata.generation !== undefined) result.metadata.generation = old.metadata.generation;
      if (rt.hasStatus) {
        if (old.status === undefined) delete result.status;
        else result.status = old.status;
      }
      if (rt.hasGeneration && !same(old.spec, result.spec)) result.metadata.generation = (old.metadata.generation ?? 0) + 1;
      applyDefaults(result);
      validate(result);
    }
    if (same(old, result)) return old; // no-op writes do not bump the resourceVersion
    return this.store.update(rt.plural, result);
  }

  /** DELETE. Pods terminate gracefully; nodes take their pods along; namespaces their content. */
  delete(rt: ResourceType, ns: string | undefined, name: string, opts: { gracePeriodSeconds?: number; preconditionUid?: string } = {}): KObject {
    const obj = this.get(rt, ns, name);
    if (opts.preconditionUid && opts.preconditionUid !== obj.metadata.uid) throw errors.conflict(rt.plural, rt.group, name);
    if (rt.plural === 'pods') return this.terminatePod(obj, opts.gracePeriodSeconds);
    // kubernetes.io/pvc-protection: a claim still mounted by a pod stays Terminating (see pvc.ts)
    if (rt.plural === 'persistentvolumeclaims' && claimInUse(this.store, obj)) {
      if (obj.metadata.deletionTimestamp) return obj;
      obj.metadata.deletionTimestamp = ts(this.ctx.now());
      obj.metadata.deletionGracePeriodSeconds = 0;
      return this.store.update(rt.plural, obj);
    }
    if (rt.plural === 'nodes') {
      for (const p of this.store.scan('pods', { nodeName: name })) this.store.remove('pods', p.metadata.namespace, p.metadata.name);
    }
    if (rt.plural === 'namespaces') {
      for (const r of ['pods', 'deployments', 'replicasets', 'daemonsets', 'statefulsets', 'poddisruptionbudgets', 'persistentvolumeclaims']) {
        for (const o of this.store.list(r, name)) this.store.remove(r, name, o.metadata.name);
      }
    }
    return this.store.remove(rt.plural, obj.metadata.namespace, name) ?? obj;
  }

  /**
   * Graceful pod deletion: the pod gets a deletionTimestamp, turns not-ready, and vanishes after
   * faults.evictionDelayMs. Unscheduled pods, finished pods and grace 0 go at once.
   */
  terminatePod(stored: KObject, gracePeriodSeconds?: number): KObject {
    const pod = structuredClone(stored); // the controllers pass the stored object itself: it is not to be mutated
    const { namespace, name, uid } = pod.metadata;
    const grace = gracePeriodSeconds ?? pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (grace === 0 || !pod.spec?.nodeName || finished || this.ctx.faults.evictionDelayMs <= 0) {
      return this.store.remove('pods', namespace, name) ?? pod;
    }
    if (pod.metadata.deletionTimestamp) return pod;
    const now = this.ctx.now();
    pod.metadata.deletionTimestamp = ts(new Date(now.getTime() + grace * 1000));
    pod.metadata.deletionGracePeriodSeconds = grace;
    setPodReady(pod, false, now);
    const updated = this.store.update('pods', pod);
    this.ctx.timers.after(this.ctx.faults.evictionDelayMs, () => {
      const cur = this.store.get('pods', namespace, name);
      if (cur && cur.metadata.uid === uid) this.store.remove('pods', namespace, name);
    });
    return updated;
  }

  // ---- scale subresource (autoscaling/v1 Scale) ----

  getScale(rt: ResourceType, ns: string | undefined, name: string): KObject {
    const o = this.get(rt, ns, name);
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
      spec: { replicas: o.spec?.replicas ?? 1 },
      status: { replicas: o.status?.replicas ?? 0, selector: selectorToString(o.spec?.selector) },
    };
  }

  updateScale(rt: ResourceType, ns: string | undefined, name: string, scale: unknown): KObject {
    const s = scale as KObject;
    const replicas = s?.spec?.replicas;
    if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas)) throw errors.invalid('Scale', name, 'spec.replicas: Invalid value: must be a non-negative integer');
    const o = this.get(rt, ns, name);
    if (s.metadata?.resourceVersion && s.metadata.resourceVersion !== o.metadata.resourceVersion) throw errors.conflict(rt.plural, rt.group, name);
    this.commit(rt, o, { ...o, spec: { ...o.spec, replicas } });
    return this.getScale(rt, ns, name);
  }

  patchScale(rt: ResourceType, ns: string | undefined, name: string, type: PatchType, patch: unknown): KObject {
    return this.updateScale(rt, ns, name, applyPatch(this.getScale(rt, ns, name), type, patch));
  }

  /** cluster.apply(): create, or replace everything but status (namespaces are created on demand). */
  apply(obj: Record<string, unknown>): KObject {
    const o = obj as unknown as KObject;
    const rt = resourceOfKind(o.apiVersion, o.kind);
    const ns = rt.namespaced ? (o.metadata?.namespace ?? 'default') : undefined;
    if (ns && !this.store.has('namespaces', undefined, ns)) this.create(resource('namespaces'), undefined, { metadata: { name: ns } });
    const existing = this.store.get(rt.plural, ns, o.metadata.name);
    if (!existing) return this.create(rt, ns, o);
    const next = { ...structuredClone(o), metadata: { ...existing.metadata, ...structuredClone(o.metadata), resourceVersion: existing.metadata.resourceVersion } } as KObject;
    return this.commit(rt, existing, next);
  }
}

/**
 * Index lookups implied by a list's selectors (label equalities, spec.nodeName): only narrows the candidates, the
 * selectors' matchers still decide. Terms that are not plain equalities (sets, !=, exists) are left to the matchers.
 */
function selectorNarrowing(opts: ListOptions): Narrow {
  const equalities = (sel: string | null | undefined) =>
    (sel ?? '').split(',').flatMap((term): [string, string][] => {
      const m = /^\s*([^\s!=(),]+)\s*==?\s*([^\s!=(),]*)\s*$/.exec(term);
      return m ? [[m[1]!, m[2]!]] : [];
    });
  const labels = equalities(opts.labelSelector);
  const nodeName = equalities(opts.fieldSelector).find(([k]) => k === 'spec.nodeName')?.[1];
  return { ...(labels.length ? { labels } : {}), ...(nodeName ? { nodeName } : {}) };
}

function resourceOfKind(apiVersion: string, kind: string): ResourceType {
  const rt = resourceByKind(apiVersion, kind);
  if (!rt) throw errors.badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
  return rt;
}

export function applyPatch(old: unknown, type: PatchType, patch: unknown): unknown {
  switch (type) {
    case 'json': return jsonPatch(old, patch);
    case 'merge': return mergePatch(old, patch);
    case 'strategic': return strategicMergePatch(old, patch);
    case 'apply': return mergePatch(old, patch);
  }
}

export function podReady(p: KObject): boolean {
  return !!(p.status?.conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Condition list upsert that keeps lastTransitionTime when the status does not change. */
export function setCondition(obj: { conditions?: Record<string, unknown>[] }, cond: { type: string; status: string; reason?: string; message?: string }, now: Date, extra: Record<string, string> = {}): void {
  const list = (obj.conditions ??= []);
  const i = list.findIndex((c) => c['type'] === cond.type);
  const prev = i >= 0 ? list[i] : undefined;
  const c: Record<string, unknown> = { ...extra, type: cond.type, status: cond.status };
  if (cond.reason) c['reason'] = cond.reason;
  if (cond.message) c['message'] = cond.message;
  c['lastTransitionTime'] = prev && prev['status'] === cond.status ? prev['lastTransitionTime'] : ts(now);
  if (i >= 0) list[i] = c;
  else list.push(c);
}

export function setPodReady(pod: KObject, ready: boolean, now: Date): void {
  const st = (pod.status ??= {});
  const s = ready ? 'True' : 'False';
  const reason = ready ? undefined : 'ContainersNotReady';
  setCondition(st, { type: 'Ready', status: s, reason }, now, { lastProbeTime: null as unknown as string });
  setCondition(st, { type: 'ContainersReady', status: s, reason }, now, { lastProbeTime: null as unknown as string });
  for (const cs of (st.containerStatuses ?? []) as { ready: boolean }[]) cs.ready = ready;
}

// ---- defaulting & validation ----

function intOrPercent(v: unknown, fallback: string | number): string | number {
  return v === undefined || v === null ? fallback : (v as string | number);
}

function applyDefaults(o: KObject): void {
  const spec = o.spec;
  switch (o.kind) {
    case 'Namespace':
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
      o.spec = { finalizers: ['kubernetes'], ...(spec ?? {}) };
      o.status ??= { phase: 'Active' };
      break;
    case 'Pod': {
      const s = (o.spec ??= {});
      s.containers ??= [];
      s.restartPolicy ??= 'Always';
      s.terminationGracePeriodSeconds ??= 30;
      s.dnsPolicy ??= 'ClusterFirst';
      s.schedulerName ??= 'default-scheduler';
      s.serviceAccountName ??= 'default';
      s.priority ??= 0;
      s.enableServiceLinks ??= true;
      s.preemptionPolicy ??= 'PreemptLowerPriority';
      s.securityContext ??= {};
      for (const c of s.containers as Record<string, unknown>[]) {
        c['imagePullPolicy'] ??= 'IfNotPresent';
        c['resources'] ??= {};
        c['terminationMessagePath'] ??= '/dev/termination-log';
        c['terminationMessagePolicy'] ??= 'File';
      }
      s.tolerations ??= [];
      // DefaultTolerationSeconds admission plugin
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
        if (!(s.tolerations as { key?: string; effect?: string }[]).some((t) => t.key === key && (t.effect ?? 'NoExecute') === 'NoExecute')) {
          s.tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
        }
      }
      o.status ??= {};
      o.status.phase ??= 'Pending';
      o.status.qosClass ??= 'BestEffort';
      break;
    }
    case 'Deployment':
      o.spec = { replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, ...(spec ?? {}) };
      o.spec.strategy ??= { type: 'RollingUpdate' };
      if (o.spec.strategy.type === undefined) o.spec.strategy.type = 'RollingUpdate';
      if (o.spec.strategy.type === 'RollingUpdate') {
        const ru = (o.spec.strategy.rollingUpdate ??= {});
        ru.maxSurge = intOrPercent(ru.maxSurge, '25%');
        ru.maxUnavailable = intOrPercent(ru.maxUnavailable, '25%');
      }
      o.status ??= {};
      break;
    case 'ReplicaSet':
      o.spec = { replicas: 1, ...(spec ?? {}) };
      o.status ??= { replicas: 0 };
      break;
    case 'DaemonSet':
      o.spec = { revisionHistoryLimit: 10, ...(spec ?? {}) };
      o.spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      o.status ??= { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
      break;
    case 'StatefulSet':
      o.spec = { replicas: 1, podManagementPolicy: 'OrderedReady', revisionHistoryLimit: 10, serviceName: '', ...(spec ?? {}) };
      o.spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
      o.status ??= { replicas: 0, availableReplicas: 0 };
      break;
    case 'PersistentVolumeClaim':
      defaultClaim(o);
      break;
    case 'PodDisruptionBudget':
      o.spec ??= {};
      o.status ??= { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
      break;
  }
}

function validate(o: KObject): void {
  const name = o.metadata.name;
  if (['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet'].includes(o.kind)) {
    const sel = o.spec?.selector;
    if (!sel || (!sel.matchLabels && !sel.matchExpressions)) throw errors.invalid(o.kind, name, 'spec.selector: Required value');
    if (!matchesSelector(sel, o.spec?.template?.metadata?.labels)) {
      throw errors.invalid(o.kind, name, 'spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`');
    }
    if (!Array.isArray(o.spec?.template?.spec?.containers) || o.spec.template.spec.containers.length === 0) {
      throw errors.invalid(o.kind, name, 'spec.template.spec.containers: Required value');
    }
  }
  if (o.kind === 'Deployment' && o.spec?.progressDeadlineSeconds !== undefined && o.spec.progressDeadlineSeconds <= (o.spec.minReadySeconds ?? 0)) {
    throw errors.invalid(o.kind, name, `spec.progressDeadlineSeconds: Invalid value: ${o.spec.progressDeadlineSeconds}: must be greater than minReadySeconds`);
  }
  if (o.kind === 'PodDisruptionBudget' && o.spec?.minAvailable !== undefined && o.spec?.maxUnavailable !== undefined) {
    throw errors.invalid(o.kind, name, 'spec: Invalid value: minAvailable and maxUnavailable cannot be both set');
  }
  if (o.kind === 'Pod' && (!Array.isArray(o.spec?.containers) || o.spec.containers.length === 0)) {
    throw errors.invalid(o.kind, name, 'spec.containers: Required value');
  }
}
