// The simulated fleet's size and delays as options: one table read by the sim's command line
// (`--boot-delay-ms 0`) and by `npm start` and the bench (`ITINERANT_SIM_BOOT_DELAY_MS=0`).
import type { StartSimOptions } from './index.js';

type Tuning = Pick<StartSimOptions, 'bootDelayMs' | 'nodeReadyDelayMs' | 'terminateDelayMs' | 'controllerDelayMs'> & {
  groups?: number;
  nodesPerGroup?: number;
  budget?: number;
  podStartDelayMs?: number;
  evictionDelayMs?: number;
};

/** flag name → [environment variable, what it sets]. */
export const SIM_TUNING: Record<string, [env: string, key: keyof Tuning, help: string]> = {
  groups: ['ITINERANT_SIM_GROUPS', 'groups', 'node groups (default 2)'],
  'nodes-per-group': ['ITINERANT_SIM_NODES_PER_GROUP', 'nodesPerGroup', 'nodes per group (default 4)'],
  budget: ['ITINERANT_SIM_BUDGET', 'budget', "each node group's maxUnavailable and maxSurge (default 1)"],
  'boot-delay-ms': ['ITINERANT_SIM_BOOT_DELAY_MS', 'bootDelayMs', 'instance launched → node registered (default 3000)'],
  'node-ready-delay-ms': ['ITINERANT_SIM_NODE_READY_DELAY_MS', 'nodeReadyDelayMs', 'node registered → Ready (default 2000)'],
  'terminate-delay-ms': ['ITINERANT_SIM_TERMINATE_DELAY_MS', 'terminateDelayMs', 'TERMINATING → TERMINATED (default 1000)'],
  'pod-start-delay-ms': ['ITINERANT_SIM_POD_START_DELAY_MS', 'podStartDelayMs', 'pod bound → Running (default 500)'],
  'eviction-delay-ms': ['ITINERANT_SIM_EVICTION_DELAY_MS', 'evictionDelayMs', 'evicted pod terminating → gone (default 0)'],
  'controller-delay-ms': ['ITINERANT_SIM_CONTROLLER_DELAY_MS', 'controllerDelayMs', 'controllers react after a change (default 200)'],
};

/** The sim's options from `read(flag, env)` (a flag's value or an environment variable's); non-negative integers only. */
export function simTuningOptions(read: (flag: string, env: string) => string | undefined): Partial<StartSimOptions> {
  const t: Tuning = {};
  for (const [flag, [env, key]] of Object.entries(SIM_TUNING)) {
    const v = read(flag, env);
    if (v === undefined || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || (positive(key) && n === 0)) {
      throw new Error(`--${flag} / ${env}: expected a ${positive(key) ? 'positive' : 'non-negative'} integer, got ${JSON.stringify(v)}`);
    }
    t[key] = n;
  }
  const { groups, nodesPerGroup, budget, podStartDelayMs, evictionDelayMs, ...delays } = t;
  const shape = { groups, nodesPerGroup, budget };
  return {
    ...delays,
    ...(Object.values(shape).some((v) => v !== undefined) ? { fleetShape: definedOnly(shape) } : {}),
    ...(podStartDelayMs !== undefined || evictionDelayMs !== undefined
      ? { kubeFaults: { ...(podStartDelayMs !== undefined ? { podStartDelayMs } : {}), ...(evictionDelayMs !== undefined ? { evictionDelayMs } : {}) } }
      : {}),
  };
}

const positive = (key: keyof Tuning) => key === 'groups' || key === 'nodesPerGroup' || key === 'budget';
const definedOnly = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** From the environment (`npm start`, the bench). */
export const simTuningFromEnv = (env: NodeJS.ProcessEnv = process.env) => simTuningOptions((_flag, name) => env[name]);
