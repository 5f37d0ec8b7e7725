// What the kubelets, the node controller and the scheduler leave behind on a real cluster: each node's Lease in
// kube-node-lease (renewed every 10 s while the node is Ready, gone with the node) and core/v1 Events for nodes
// (Starting, RegisteredNode, NodeReady / NodeNotReady, NodeSchedulable / NodeNotSchedulable) and pods (Scheduled).
import { randomBytes } from 'node:crypto';
import { ts, type SimContext } from './context.js';
import { nodeReady } from './nodes.js';
import { rt, type KObject } from './resources.js';
import type { KubeApi } from './rest.js';
import type { StoreEvent } from './store.js';

const LEASE_NS = 'kube-node-lease';
const RENEW_MS = 10_000;

export class NodeLeasesAndEvents {
  constructor(
    private readonly ctx: SimContext,
    private readonly api: KubeApi,
  ) {
    ctx.store.subscribe((e) => this.onChange(e));
  }

  private onChange(e: StoreEvent): void {
    // Written after the change that caused them, never from inside the store's notification.
    if (e.resource === 'nodes') this.ctx.timers.after(0, () => this.node(e));
    if (e.resource === 'pods' && e.type === 'MODIFIED' && !e.old?.spec?.nodeName && e.object.spec?.nodeName) {
      const p = e.object;
      this.ctx.timers.after(0, () => this.event(p, p.metadata.namespace!, 'Normal', 'Scheduled', `Successfully assigned ${p.metadata.namespace}/${p.metadata.name} to ${p.spec.nodeName}`, 'default-scheduler'));
    }
  }

  private node(e: StoreEvent): void {
    const n = e.object;
    const name = n.metadata.name;
    if (e.type === 'DELETED') {
      if (this.ctx.store.has('leases', LEASE_NS, name)) this.api.delete(rt('leases'), LEASE_NS, name);
      this.event(n, 'default', 'Normal', 'RemovingNode', `Node ${name} event: Removing Node ${name} from Controller`, 'node-controller');
      return;
    }
    if (e.type === 'ADDED') {
      this.renew(n);
      this.event(n, 'default', 'Normal', 'Starting', 'Starting kubelet.', 'kubelet', name);
      this.event(n, 'default', 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`, 'node-controller');
      if (nodeReady(n)) this.event(n, 'default', 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`, 'kubelet', name);
      this.scheduleRenewals();
      return;
    }
    if (e.old && nodeReady(e.old) !== nodeReady(n)) {
      const status = nodeReady(n) ? 'NodeReady' : 'NodeNotReady';
      this.event(n, 'default', 'Normal', status, `Node ${name} status is now: ${status}`, 'kubelet', name);
    }
    if (e.old && !!e.old.spec?.unschedulable !== !!n.spec?.unschedulable) {
      const status = n.spec?.unschedulable ? 'NodeNotSchedulable' : 'NodeSchedulable';
      this.event(n, 'default', 'Normal', status, `Node ${name} status is now: ${status}`, 'kubelet', name);
    }
  }

  /** The kubelet's heartbeat: create or renew the node's Lease. */
  private renew(n: KObject): void {
    const name = n.metadata.name;
    const now = this.ctx.now().toISOString().replace('Z', '000Z'); // MicroTime
    const lease = this.ctx.store.get('leases', LEASE_NS, name);
    if (lease) {
      this.api.update(rt('leases'), LEASE_NS, name, { ...lease, spec: { ...lease.spec, renewTime: now } });
      return;
    }
    this.api.create(rt('leases'), LEASE_NS, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: LEASE_NS, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: n.metadata.uid }] },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now },
    });
  }

  private scheduleRenewals(): void {
    this.ctx.timers.after(
      RENEW_MS,
      () => {
        const nodes = [...this.ctx.store.peek('nodes')].filter(nodeReady);
        for (const n of nodes) this.renew(n);
        if (this.ctx.store.scan('nodes').length) this.scheduleRenewals();
      },
      'lease-renewals',
    );
  }

  private event(about: KObject, namespace: string, type: string, reason: string, message: string, component: string, host?: string): void {
    const now = ts(this.ctx.now());
    this.api.create(rt('events'), namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${about.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        uid: about.metadata.uid,
        ...(about.metadata.namespace ? { namespace: about.metadata.namespace } : {}),
      },
      reason,
      message,
      source: { component, ...(host ? { host } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: host ?? '',
    });
  }
}
