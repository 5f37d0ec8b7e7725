// Worker process: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_API_KEY and TEMPORAL_TLS*
// (src/config/temporal-connection.ts), ITINERANT_CONFIG (fleet file; defaults to the simulated fleet's <home>/sim/fleet.yaml).
// ITINERANT_WORKFLOW_BUNDLE: a prebuilt workflow bundle (bundleWorkflowCode's code in a file); otherwise the worker
// bundles src/workflows as it starts. ITINERANT_WORKER_* tune it (src/workers/tuning.ts). Logs: JSON lines on stdout.
// ITINERANT_METRICS_ADDRESS (e.g. 0.0.0.0:9464): /metrics, /healthz and /readyz there (src/workers/metrics-server.ts).
// ITINERANT_AUDIT_LOG: a file for the audit stream, or stdout (default; src/workers/audit.ts).
import { Runtime, type LogLevel, type Worker } from '@temporalio/worker';
import { join } from 'node:path';
import { itinerantHome } from '../config/home.js';
import { loadFleetConfig } from '../config/fleet-config.js';
import { describeTemporalConnection, temporalConnectionFromEnv, type TemporalConnectionSettings } from '../config/temporal-connection.js';
import { tlsProblem } from '../config/temporal-tls-check.js';
import { dataConverterFromEnv } from '../codec/data-converter.js';
import { createItinerantWorker } from './worker.js';
import { auditSinkFromEnv } from './audit.js';
import { jsonLogger } from './logger.js';
import { freeLoopbackAddress, startMetricsServer } from './metrics-server.js';
import { workerTuningFromEnv } from './tuning.js';

const configPath = process.env.ITINERANT_CONFIG ?? join(itinerantHome(), 'sim', 'fleet.yaml');
const bundlePath = process.env.ITINERANT_WORKFLOW_BUNDLE;

const metricsAddress = process.env.ITINERANT_METRICS_ADDRESS?.trim();
const sdkMetricsAddress = metricsAddress ? await freeLoopbackAddress() : undefined;
Runtime.install({
  logger: jsonLogger((process.env.ITINERANT_LOG_LEVEL ?? 'INFO') as LogLevel),
  ...(sdkMetricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } } } : {}),
});
let running: Worker | undefined;

try {
  const metrics = metricsAddress ? await startMetricsServer({ address: metricsAddress, sdkMetricsAddress, health: () => running?.getState() ?? 'STARTING' }) : undefined;
  const temporal = temporalConnectionFromEnv();
  const fleet = loadFleetConfig(configPath);
  const { worker, close } = await createItinerantWorker({ ...temporal, fleet, tuning: workerTuningFromEnv(), dataConverter: dataConverterFromEnv(), audit: auditSinkFromEnv(), ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}) }).catch(async (e: unknown) => Promise.reject(await explainTls(e, temporal)));
  running = worker;
  console.log(
    `itinerant worker: ${describeTemporalConnection(temporal)}; fleet ${configPath} (${fleet.clusters.map((c) => c.name).join(', ')}); ` +
      `${bundlePath ? 'prebuilt workflow bundle' : 'workflows bundled at start'}, ready in ${process.uptime().toFixed(1)}s` +
      (metricsAddress ? `; metrics on ${metricsAddress}` : ''),
  );
  await worker.run(); // returns after SIGINT/SIGTERM once in-flight tasks are done
  await close();
  metrics?.close();
} catch (e) {
  console.error(`itinerant worker: ${(e as Error).message}`);
  process.exit(1);
}

/** The SDK's own connection error does not say what TLS refused: say it when that is what failed. */
async function explainTls(e: unknown, temporal: TemporalConnectionSettings): Promise<unknown> {
  const problem = await tlsProblem(temporal);
  return problem ? new Error(`TLS with ${temporal.address} failed: ${problem}`) : e;
}
