// Scenario 3: what orchestration costs per repaved node, with the sim's delays set (the waits poll while the
// fleet works): Temporal history events per repaveNode run (goal ≤ 60) and the worker's CPU per node (goal ≤ 25 ms),
// beside the SDK's floor: as many runs of repaveNode's history with no work (bench/sdk-floor).
import { startBed } from '../bed.js';
import { groupNodes, repaveMany } from '../repave-many.js';
import type { Scenario } from '../scenario.js';
import { measureSdkFloor } from '../sdk-floor/measure.js';
import { REPAVE_DELAYS } from './repave-floor.js';

const SIZES = { tiny: { groups: 2, 'nodes-per-group': 2 }, full: { groups: 10, 'nodes-per-group': 10 } };

export const orchestrationCost: Scenario = {
  name: 'orchestration-cost',
  async run({ server, size }) {
    const bed = await startBed(server, { ...REPAVE_DELAYS[size], ...SIZES[size] });
    try {
      const figures = await repaveMany(bed, await groupNodes(bed));
      const sdkFloor = await measureSdkFloor(server, figures.runs, {});
      return { goal: 'eventsPerRun <= 60 and workerCpuMsPerNode <= 25', fleet: SIZES[size], simDelaysMs: REPAVE_DELAYS[size], ...figures, sdkFloor };
    } finally {
      await bed.stop();
    }
  },
};
