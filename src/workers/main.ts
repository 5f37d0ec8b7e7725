// Worker process: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_API_KEY and TEMPORAL_TLS*
// (src/config/temporal-connection.ts), ITINERANT_CONFIG (fleet file; defaults to the simulated fleet's <home>/sim/fleet.yaml).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { join } from 'node:path';
import { itinerantHome } from '../config/home.js';
import { loadFleetConfig } from '../config/fleet-config.js';
import { describeTemporalConnection, temporalConnectionFromEnv, type TemporalConnectionSettings } from '../config/temporal-connection.js';
import { tlsProblem } from '../config/temporal-tls-check.js';
import { createItinerantWorker } from './worker.js';

const configPath = process.env.ITINERANT_CONFIG ?? join(itinerantHome(), 'sim', 'fleet.yaml');

Runtime.install({ logger: new DefaultLogger((process.env.ITINERANT_LOG_LEVEL ?? 'INFO') as 'INFO') });

let temporal: TemporalConnectionSettings | undefined;
try {
  temporal = temporalConnectionFromEnv();
  const fleet = loadFleetConfig(configPath);
  const { worker, close } = await createItinerantWorker({ ...temporal, fleet });
  console.log(`itinerant worker: ${describeTemporalConnection(temporal)}; fleet ${configPath} (${fleet.clusters.map((c) => c.name).join(', ')})`);
  await worker.run(); // returns after SIGINT/SIGTERM once in-flight tasks are done
  await close();
} catch (e) {
  const tls = temporal ? await tlsProblem(temporal) : undefined; // the SDK's own error does not say what TLS refused
  console.error(`itinerant worker: ${tls ? `TLS with ${temporal!.address} failed: ${tls}` : (e as Error).message}`);
  process.exit(1);
}
