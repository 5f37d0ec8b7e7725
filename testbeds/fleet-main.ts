// CLI entry of the simulated fleet (npm run sim), its Kubernetes side the sim's or (ITINERANT_TESTBED=control-plane) the real control plane's:
//   tsx testbeds/fleet-main.ts [--home dir] [--kube-port n] [--oci-port n] [--control-port n]
//                       [--groups n] [--nodes-per-group n] [--boot-delay-ms n] [--node-ready-delay-ms n] ... (testbeds/sim/tuning.ts)
//                       [--no-seed] [--no-cassandra] [--verbose]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { controlCurlExamples } from './sim/control.js';
import { startTestbed, testbedFromEnv } from './index.js';
import { SIM_TUNING, simTuningOptions } from './sim/tuning.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        home: { type: 'string' },
        'kube-port': { type: 'string' },
        'oci-port': { type: 'string' },
        'control-port': { type: 'string' },
        ...Object.fromEntries(Object.keys(SIM_TUNING).map((flag) => [flag, { type: 'string' as const }])),
        'no-seed': { type: 'boolean', default: false },
        'no-cassandra': { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  if (values.help) {
    console.log(
      'usage: tsx testbeds/fleet-main.ts [--home dir] [--kube-port n] [--oci-port n] [--control-port n] [--no-seed] [--no-cassandra] [--verbose] [tuning]\n' +
        'home defaults to $ITINERANT_HOME or <project>/.itinerant; ports default to random free ports.\ntuning (each also from its environment variable):\n' +
        Object.entries(SIM_TUNING)
          .map(([flag, [env, , help]]) => `  --${flag} n   ${env}   ${help}`)
          .join('\n'),
    );
    return;
  }
  const home = path.resolve(values.home ?? process.env.ITINERANT_HOME ?? path.join(projectRoot, '.itinerant'));
  const kubePort = int('kube-port', values['kube-port']);
  const ociPort = int('oci-port', values['oci-port']);
  const controlPort = int('control-port', values['control-port']);
  let tuning;
  try {
    tuning = simTuningOptions((flag, env) => (values as Record<string, unknown>)[flag] as string | undefined ?? process.env[env]);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  // ITINERANT_TESTBED=control-plane: the same fleet with its Kubernetes side on the real control plane (its binaries built first)
  const backend = testbedFromEnv();
  const sim = await startTestbed({
    backend,
    home,
    seed: !values['no-seed'],
    seedCassandra: !values['no-cassandra'],
    ...(kubePort !== undefined ? { kubePort } : {}),
    ...(ociPort !== undefined ? { ociPort } : {}),
    ...(controlPort !== undefined ? { controlPort } : {}),
    ...tuning,
    ...(values.verbose ? { log: (line: string) => console.log(`[oci] ${line}`) } : {}),
  });

  console.log(`simulated fleet ${sim.clusterName} is up (pid ${process.pid}${backend === 'control-plane' ? ', Kubernetes on the real control plane' : ''})
  kubernetes API   ${sim.kubeUrl}
  OCI API          ${sim.ociUrl}   (compute + identity, /20160918)
  control API      ${sim.controlUrl}   (GET /sim/state, GET|PUT /sim/faults, GET /sim/timeline?group=, GET /sim/counters;
                   authorization: Bearer <controlToken from endpoints.json>, content-type: application/json)
  kubeconfig       ${sim.kubeconfigPath}   (the worker's identity: the RBAC itinerant rbac render renders for fleet.yaml)
  admin kubeconfig ${sim.adminKubeconfigPath}
  OCI config       ${sim.ociConfigPath}   (profile DEFAULT)
  fleet config     ${sim.fleetConfigPath}
  endpoints        ${sim.endpointsPath}

  try: KUBECONFIG=${sim.kubeconfigPath} kubectl get nodes -L itinerant.dev/node-group
${controlCurlExamples(sim.controlUrl, sim.endpointsPath)
  .map((line) => `       ${line}`)
  .join('\n')}
  Ctrl-C to stop.`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the simulated fleet`);
    sim.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(`simulated fleet failed to start: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
