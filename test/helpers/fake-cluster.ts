import type { NodeRegistration, SimCluster } from '../../testbeds/sim/kube/cluster-api.js';

/** A stand-in for the Kubernetes side: just remembers nodes. */
export class FakeCluster implements SimCluster {
  readonly name = 'fake';
  readonly nodes = new Map<string, NodeRegistration & { readyNow: boolean }>();
  registerNode(reg: NodeRegistration): void {
    this.nodes.set(reg.name, { ...reg, readyNow: reg.ready });
  }
  setNodeReady(name: string, ready: boolean): void {
    const n = this.nodes.get(name);
    if (n) n.readyNow = ready;
  }
  removeNode(name: string): void {
    this.nodes.delete(name);
  }
  hasNode(name: string): boolean {
    return this.nodes.has(name);
  }
  apply(): void {}
}
