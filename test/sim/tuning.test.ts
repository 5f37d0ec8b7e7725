import { describe, expect, it } from 'vitest';
import { simNodeGroups } from '../../testbeds/sim/seed.js';
import { simTuningFromEnv, simTuningOptions } from '../../testbeds/sim/tuning.js';

describe('the sim fleet size and delays as options', () => {
  it('reads flags (or their environment variables) into the sim options', () => {
    const flags: Record<string, string> = { groups: '10', 'nodes-per-group': '100', 'boot-delay-ms': '0', 'eviction-delay-ms': '250' };
    expect(simTuningOptions((flag) => flags[flag])).toEqual({
      fleetShape: { groups: 10, nodesPerGroup: 100 },
      bootDelayMs: 0,
      kubeFaults: { evictionDelayMs: 250 },
    });
    expect(simTuningFromEnv({ ITINERANT_SIM_NODE_READY_DELAY_MS: '5', ITINERANT_SIM_CONTROLLER_DELAY_MS: '0' })).toEqual({ nodeReadyDelayMs: 5, controllerDelayMs: 0 });
    expect(simTuningFromEnv({})).toEqual({});
  });

  it('refuses what is not a count or a delay, naming the flag and the variable', () => {
    expect(() => simTuningFromEnv({ ITINERANT_SIM_GROUPS: '0' })).toThrow('--groups / ITINERANT_SIM_GROUPS: expected a positive integer, got "0"');
    expect(() => simTuningFromEnv({ ITINERANT_SIM_BOOT_DELAY_MS: '1.5' })).toThrow(/--boot-delay-ms .* non-negative integer/);
  });

  it('a fleet shape gives that many groups of that size; the default stays general and batch of 4', () => {
    expect(simNodeGroups(['AD-1']).map((g) => [g.name, g.size])).toEqual([['general', 4], ['batch', 4]]);
    const groups = simNodeGroups(['AD-1', 'AD-2', 'AD-3'], 'sim-1', { groups: 10, nodesPerGroup: 100 });
    expect(groups.map((g) => g.name)).toEqual(['general', 'batch', ...Array.from({ length: 8 }, (_, i) => `group-${i + 3}`)]);
    expect(new Set(groups.map((g) => g.size))).toEqual(new Set([100]));
    expect(new Set(groups.map((g) => [g.maxUnavailable, g.maxSurge].join()))).toEqual(new Set(['1,1']));
  });

  it("a budget sets every group's maxUnavailable and maxSurge (the repaves it allows at once)", () => {
    expect(simTuningOptions((flag) => ({ budget: '10' })[flag])).toEqual({ fleetShape: { budget: 10 } });
    expect(() => simTuningFromEnv({ ITINERANT_SIM_BUDGET: '0' })).toThrow('--budget / ITINERANT_SIM_BUDGET: expected a positive integer, got "0"');
    const groups = simNodeGroups(['AD-1'], 'sim-1', { groups: 2, nodesPerGroup: 20, budget: 5 });
    expect(groups.map((g) => [g.maxUnavailable, g.maxSurge])).toEqual([[5, 5], [5, 5]]);
  });
});
