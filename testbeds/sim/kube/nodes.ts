// Node registration and kubelet-reported readiness (the SimCluster side of nodes),
// plus the per-node-group readiness timeline.

import type { NodeRegistration } from './cluster-api.js';
import { ts, type SimContext } from './context.js';
import { rt, type KObject } from './resources.js';
import { setCondition, type KubeApi } from './rest.js';
import type { Taint } from './selectors.js';
import type { ObjectStore } from './store.js';
import { kubeletCapacity, kubeletConditions, kubeletNodeInfo } from '../kubelet-status.js';

export const NODE_GROUP_LABEL = 'itinerant.dev/node-group';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export function nodeReady(n: KObject): boolean {
  return !!(n.status?.conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The taints the node lifecycle controller manages: not-ready and unschedulable (NoSchedule). Returns true when changed. */
export function syncNodeTaints(n: KObject): boolean {
  const spec = (n.spec ??= {});
  const before = JSON.stringify(spec.taints ?? []);
  let taints = [...((spec.taints ?? []) as Taint[])];
  const want = (key: string, on: boolean): void => {
    const has = taints.some((t) => t.key === key && t.effect === 'NoSchedule');
    if (on && !has) taints.push({ key, effect: 'NoSchedule' });
    if (!on && has) taints = taints.filter((t) => !(t.key === key && t.effect === 'NoSchedule'));
  };
  want(TAINT_NOT_READY, !nodeReady(n));
  want(TAINT_UNSCHEDULABLE, !!spec.unschedulable);
  if (taints.length) spec.taints = taints;
  else delete spec.taints;
  return JSON.stringify(spec.taints ?? []) !== before;
}

export class NodeAgent {
  private nodeSeq = 0;

  constructor(private readonly ctx: SimContext, private readonly api: KubeApi) {}

  register(reg: NodeRegistration): void {
    const now = this.ctx.now();
    const name = reg.name.toLowerCase();
    const existing = this.ctx.store.get('nodes', undefined, name);
    if (existing) {
      existing.metadata.labels = { ...(existing.metadata.labels ?? {}), ...reg.labels };
      this.ctx.store.update('nodes', existing);
      this.setReady(name, reg.ready);
      return;
    }
    const seq = this.nodeSeq++;
    const ip = reg.internalIP ?? `10.0.${Math.floor(seq / 250)}.${(seq % 250) + 2}`;
    const hb = ts(now);
    const node: KObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/os': 'linux',
          'kubernetes.io/hostname': name,
          ...reg.labels,
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', ...reg.annotations },
        creationTimestamp: ts(reg.creationTimestamp ?? now),
      } as unknown as KObject['metadata'],
      spec: {
        providerID: reg.providerID,
        podCIDR: `10.244.${seq % 256}.0/24`,
        podCIDRs: [`10.244.${seq % 256}.0/24`],
        ...(reg.taints?.length ? { taints: structuredClone(reg.taints) } : {}),
      },
      status: {
        ...kubeletCapacity(),
        conditions: kubeletConditions(reg.ready, hb),
        addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: kubeletNodeInfo(seq, { kubelet: 'v1.32.1', kubeProxy: 'v1.32.1' }),
      },
    };
    syncNodeTaints(node);
    this.api.create(rt('nodes'), undefined, node);
  }

  setReady(name: string, ready: boolean, reason?: string): void {
    const n = this.ctx.store.get('nodes', undefined, name);
    if (!n) throw new Error(`node ${name} not found`);
    const now = this.ctx.now();
    const st = n.status ?? {};
    setCondition(st, ready
      ? { type: 'Ready', status: 'True', reason: reason ?? 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: reason ?? 'KubeletNotReady', message: 'kubelet stopped posting node status' }, now, { lastHeartbeatTime: ts(now) });
    // keep the kubelet's condition order: move nothing, just refresh heartbeat of Ready
    n.status = st;
    syncNodeTaints(n);
    this.ctx.store.update('nodes', n);
  }

  remove(name: string): void {
    if (!this.ctx.store.has('nodes', undefined, name)) return;
    this.api.delete(rt('nodes'), undefined, name);
  }
}

export interface ReadinessPoint { at: string; group: string; ready: number; readySchedulable: number }

/** Appends a point whenever the Ready (and Ready+schedulable) node count of a node group changes. */
export class ReadinessTimeline {
  private readonly points: ReadinessPoint[] = [];
  private readonly last = new Map<string, { ready: number; readySchedulable: number }>();

  constructor(private readonly store: ObjectStore, private readonly now: () => Date) {
    store.subscribe((e) => {
      if (e.resource !== 'nodes') return;
      const groups = new Set<string>();
      for (const o of [e.object, e.old]) {
        const g = o?.metadata.labels?.[NODE_GROUP_LABEL];
        if (g !== undefined) groups.add(g);
      }
      for (const g of groups) this.recompute(g);
    });
  }

  private recompute(group: string): void {
    let ready = 0;
    let readySchedulable = 0;
    for (const n of this.store.peek('nodes')) {
      if (n.metadata.labels?.[NODE_GROUP_LABEL] !== group || !nodeReady(n)) continue;
      ready++;
      if (!n.spec?.unschedulable) readySchedulable++;
    }
    const prev = this.last.get(group);
    if (prev && prev.ready === ready && prev.readySchedulable === readySchedulable) return;
    this.last.set(group, { ready, readySchedulable });
    this.points.push({ at: this.now().toISOString(), group, ready, readySchedulable });
  }

  list(group?: string): ReadinessPoint[] {
    return this.points.filter((p) => group === undefined || p.group === group).map((p) => ({ ...p }));
  }
}
