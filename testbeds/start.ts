// `npm start`: the embedded default — a Temporal dev server (persistent, Web UI on 8233), the simulated
// fleet and the worker, in one terminal. Ctrl-C stops all three.
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { relative } from 'node:path';
import { loadFleetConfig } from '../src/config/fleet-config.js';
import { dataDir, ensureDir, itinerantHome, logsDir } from '../src/config/home.js';
import { ensureTemporalCli, startDevServer } from './temporal/temporal-cli.js';
import { startSim } from './sim/index.js';
import { controlCurlExamples } from './sim/control.js';
import { simTuningFromEnv } from './sim/tuning.js';
import { createItinerantWorker } from '../src/workers/worker.js';

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const home = itinerantHome();
  const cli = await ensureTemporalCli();
  const server = await startDevServer({
    cliPath: cli,
    dbFile: `${ensureDir(dataDir())}/temporal.sqlite`,
    port: env('ITINERANT_TEMPORAL_PORT', 7233),
    uiPort: env('ITINERANT_UI_PORT', 8233),
    logFile: `${ensureDir(logsDir())}/temporal-dev-server.log`,
  });
  const sim = await startSim({
    home,
    kubePort: env('ITINERANT_SIM_KUBE_PORT', 16443),
    ociPort: env('ITINERANT_SIM_OCI_PORT', 16444),
    controlPort: env('ITINERANT_SIM_CONTROL_PORT', 16445),
    ...simTuningFromEnv(), // fleet size and delays: ITINERANT_SIM_GROUPS, ITINERANT_SIM_BOOT_DELAY_MS, ... (testbeds/sim/tuning.ts)
  }).catch(async (e) => {
    await server.stop();
    throw e;
  });
  const fleet = loadFleetConfig(sim.fleetConfigPath);
  const { worker, close } = await createItinerantWorker({ address: server.address, namespace: server.namespace, fleet });
  const example = sim.seeded?.nodes.general?.[0] ?? '<node>';
  const rel = (p: string) => relative(process.cwd(), p) || p;
  console.log(`
itinerant is running (state in ${rel(home)})
  Temporal      ${server.address}, namespace ${server.namespace}   Web UI ${server.uiUrl}
  sim fleet     cluster ${sim.clusterName}: Kubernetes ${sim.kubeUrl}, OCI ${sim.ociUrl}, control ${sim.controlUrl}
  kubeconfig    ${rel(sim.kubeconfigPath)}       kubectl --kubeconfig ${rel(sim.kubeconfigPath)} get nodes   (the worker's identity, RBAC rendered for fleet.yaml: itinerant rbac render)
  admin         ${rel(sim.adminKubeconfigPath)}   may do anything (kubectl get deployments -A, scale, ...)
  OCI config    ${rel(sim.ociConfigPath)} (profile DEFAULT)
  fleet config  ${rel(sim.fleetConfigPath)}
  worker        task queue itinerant

Repave a node:
  npx itinerant run repave-node --input '{"cluster":"${sim.clusterName}","node":"${example}"}' --wait
or in the Web UI: Start Workflow, type repaveNode, task queue itinerant, input {"cluster":"${sim.clusterName}","node":"${example}"}
Decommission the last Cassandra member (namespace data):
  npx itinerant run decommission-member --input '{"cluster":"${sim.clusterName}","namespace":"data","statefulSet":"cassandra","member":"cassandra-3"}' --wait
Rotate the client CA (or service-account, secret-encryption): new key, nodes repaved onto it, promoted, old one withdrawn:
  npx itinerant run rotate-keys --input '{"cluster":"${sim.clusterName}","purpose":"client-ca"}' --wait
Repave continuously (one Schedule and lane per node group):
  npx itinerant schedules apply && npx itinerant lane state ${sim.clusterName} general
The sim's control API (state, faults; a bearer token per start, in ${rel(sim.endpointsPath)}):
${controlCurlExamples(sim.controlUrl, sim.endpointsPath)
  .map((line) => `  ${line}`)
  .join('\n')}

Ctrl-C stops everything.`);
  try {
    await worker.run(); // the Runtime shuts the worker down on SIGINT/SIGTERM
  } finally {
    await close();
    await sim.stop();
    await server.stop();
    console.log('itinerant stopped');
  }
}

main().catch((e) => {
  console.error(`npm start: ${(e as Error).message}`);
  process.exit(1);
});
