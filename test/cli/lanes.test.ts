import { describe, expect, it } from 'vitest';
import type { LaneState } from '../../src/core/lane/index.js';
import { describeLane } from '../../src/cli/lanes.js';

const base: LaneState = {
  cluster: 'sim-1',
  group: 'general',
  phase: 'blocked',
  paused: false,
  pace: { concurrency: 1, pauseBetweenNodes: 0 },
  breaker: { open: false },
  queue: [{ node: 'general-a', kind: 'drifted', reasons: ['drifted: runs image x'] }],
  inFlight: [],
  skipped: [{ node: 'general-a', why: 'outside the maintenance windows of general; the next opens at 2025-03-05T21:00:00.000Z' }],
  reports: [],
  holds: [],
  history: [],
  sweeps: 3,
  runs: 1,
  totals: { started: 0, replaced: 0, failed: 0 },
};

describe('itinerant lane state', () => {
  it('shows the desired image, who pinned it and how many nodes run it, and the next maintenance window', () => {
    const text = describeLane({
      ...base,
      desiredImage: { imageId: 'ocid1.image.oc1..new', displayName: 'node-2025.03', source: 'pinned', by: 'rollout-node-image.sim-1.prod', drift: 'all', at: '2025-03-05T12:00:00Z' },
      images: { 'general-a': 'ocid1.image.oc1..old', 'general-b': 'ocid1.image.oc1..new' },
      window: { open: false, opensAt: '2025-03-05T21:00:00.000Z' },
    });
    expect(text).toContain('image     node-2025.03 (pinned by rollout-node-image.sim-1.prod): 1 of 2 node(s) run it');
    expect(text).toContain('window    closed: aged, drifted and keyring-behind nodes wait; the next opens at 2025-03-05T21:00:00.000Z');
    expect(text).toContain('queue     general-a (drifted)');
  });

  it('shows the keyring versions rotations require, and how many nodes were behind at the last sweep', () => {
    const text = describeLane({
      ...base,
      keyrings: { 'client-ca': { version: 6, by: 'rotate-keys.sim-1.client-ca', at: '2025-03-05T12:00:00Z' } },
      lastSweep: { at: '2025-03-05T12:01:00Z', nodes: 4, aged: 0, unhealthy: 0, drifted: 0, keyring: 3, budget: { cap: 1, inFlight: 1, unavailableElsewhere: 0, slots: 0 } },
    });
    expect(text).toContain('keyring   client-ca v6 or later, required by rotate-keys.sim-1.client-ca');
    expect(text).toContain('4 nodes, 0 aged, 0 unhealthy, 0 drifted, 3 behind a keyring');
  });

  it('says nothing of images, keyrings or windows for a lane that has none', () => {
    const text = describeLane(base);
    expect(text).not.toMatch(/image|keyring|window {4}/);
  });
});
