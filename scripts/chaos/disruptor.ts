// Disrupts a run while it is in flight, on the run's seeded schedule: the worker SIGKILLed a random time
// after it became ready (so the kills fall uniformly over the run, whatever step it is in) and restarted,
// and at one chosen disruption the Temporal dev server stopped and started again on its database.
import type { Bed } from './bed.js';
import type { Random } from './random.js';

export interface ChaosCounts {
  runs: number;
  kills: number;
  serverRestarts: number;
  faults: number;
  violations: number;
}

export interface DisruptionPlan {
  /** The worker is killed this long (uniform, ms) after it is ready. */
  killAfterMs: [number, number];
  /** The n-th disruption (1-based) restarts the dev server instead of killing the worker; none when undefined. */
  serverRestartAt?: number;
}

/** Disrupts `bed` until `inFlight()` turns false; counts what it did into `counts`. */
export async function disrupt(bed: Bed, random: Random, plan: DisruptionPlan, inFlight: () => boolean, counts: ChaosCounts, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const when = () => `+${((Date.now() - started) / 1000).toFixed(1)}s`;
  for (let n = 1; inFlight(); n++) {
    await bed.worker.whenReady();
    if (!(await sleepWhile(random.between(...plan.killAfterMs), inFlight))) return;
    if (n === plan.serverRestartAt) {
      const downMs = random.between(500, 3000);
      log(`  ${when()} restarting the Temporal dev server (down ${Math.round(downMs)} ms)`);
      await bed.temporal.restart(downMs);
      counts.serverRestarts++;
      continue;
    }
    await bed.worker.kill();
    counts.kills++;
    log(`  ${when()} worker SIGKILLed (kill ${counts.kills})`);
    await sleepWhile(random.between(0, 1000), inFlight);
    bed.worker.start();
  }
}

/** Sleep `ms`, waking early when `go()` turns false; returns whether it still holds. */
async function sleepWhile(ms: number, go: () => boolean): Promise<boolean> {
  const until = Date.now() + ms;
  while (go() && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
  return go();
}
