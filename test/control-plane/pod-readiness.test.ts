// The test bed's kubelets set a pod Ready again as a kubelet's status sync does, and only where one would.
import { describe, expect, it } from 'vitest';
import { podsToReady, type KubeletNode } from '../../testbeds/control-plane/pod-readiness.js';

const node = (kubelet: string, ready: string): KubeletNode => ({ metadata: { annotations: { 'itinerant.dev/kubelet': kubelet } }, status: { conditions: [{ type: 'Ready', status: ready }] } });
const nodes: Record<string, KubeletNode> = { up: node('ready', 'True'), stopped: node('stopped', 'False'), lagging: node('ready', 'False') };
const pod = (name: string, nodeName: string, o: { ready?: string; containersReady?: string; phase?: string; deleting?: boolean; gates?: boolean } = {}) => ({
  metadata: { name, namespace: 'shop', ...(o.deleting ? { deletionTimestamp: '2026-12-01T00:00:00Z' } : {}) },
  spec: { nodeName, ...(o.gates ? { readinessGates: [{ conditionType: 'x' }] } : {}) },
  status: {
    phase: o.phase ?? 'Running',
    conditions: [
      { type: 'ContainersReady', status: o.containersReady ?? 'True' },
      { type: 'Ready', status: o.ready ?? 'False' },
    ],
  },
});

describe('pod readiness sync (what KWOK does not play of a kubelet)', () => {
  it('marks Ready again only a running pod with ready containers, marked not ready, on a node whose kubelet is up and Ready', () => {
    const pods = [
      pod('marked', 'up'),
      pod('already-ready', 'up', { ready: 'True' }),
      pod('crash-looping', 'up', { containersReady: 'False' }),
      pod('on-stopped-kubelet', 'stopped'),
      pod('node-not-ready-yet', 'lagging'),
      pod('terminating', 'up', { deleting: true }),
      pod('with-readiness-gates', 'up', { gates: true }),
      pod('pending', 'up', { phase: 'Pending' }),
      pod('on-unknown-node', 'gone'),
    ];
    expect(podsToReady(pods, (n) => nodes[n]).map((p) => p.metadata.name)).toEqual(['marked']);
  });
});
