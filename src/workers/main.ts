// Worker process: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default), ITINERANT_CONFIG (fleet file;
// defaults to the simulated fleet's <home>/sim/fleet.yaml); ITINERANT_WORKER_* tune it (src/workers/tuning.ts).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { join } from 'node:path';
import { itinerantHome } from '../config/home.js';
import { loadFleetConfig } from '../config/fleet-config.js';
import { createItinerantWorker } from './worker.js';
import { workerTuningFromEnv } from './tuning.js';

const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
const configPath = process.env.ITINERANT_CONFIG ?? join(itinerantHome(), 'sim', 'fleet.yaml');

Runtime.install({ logger: new DefaultLogger((process.env.ITINERANT_LOG_LEVEL ?? 'INFO') as 'INFO') });

try {
  const fleet = loadFleetConfig(configPath);
  const { worker, close } = await createItinerantWorker({ address, namespace, fleet, tuning: workerTuningFromEnv() });
  console.log(`itinerant worker: ${address} namespace ${namespace}, fleet ${configPath} (${fleet.clusters.map((c) => c.name).join(', ')})`);
  await worker.run(); // returns after SIGINT/SIGTERM once in-flight tasks are done
  await close();
} catch (e) {
  console.error(`itinerant worker: ${(e as Error).message}`);
  process.exit(1);
}
