// itinerant CLI: start runbooks, follow and steer them. Input is checked before Temporal is contacted;
// exit codes: 0 ok, 1 failed (or Temporal unreachable), 2 refused input, 3 target already busy.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT } from './errors.js';
import { prepareRun, readInput } from './input.js';
import { failureChain } from './progress.js';
import { knownSignals, RUNBOOKS, signalSpec } from './runbooks.js';
import type { Target } from './temporal.js';

/** Loaded lazily: refusing bad input must not wait for the Temporal client to load. */
const commands = () => import('./commands.js');
const temporal = () => import('./temporal.js');
const lanes = () => import('./lanes.js');
const fleet = () => import('./fleet.js');
const rbac = () => import('./rbac.js');
const codecServer = () => import('./codec-server.js');
const CONFIG_HELP = "fleet configuration (default: $ITINERANT_CONFIG or the simulated fleet's fleet.yaml)";
const LANE_ACTIONS = ['pause', 'resume', 'sweep-now', 'reset-breaker'] as const;

interface ConnOpts {
  address?: string;
  namespace?: string;
}

function connectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--address <host:port>', 'Temporal frontend').env('TEMPORAL_ADDRESS').default('127.0.0.1:7233'))
    .addOption(new Option('--namespace <ns>', 'Temporal namespace').env('TEMPORAL_NAMESPACE').default('default'));
}

let lastTarget: Target | undefined;
async function target(opts: ConnOpts): Promise<Target> {
  lastTarget = (await temporal()).resolveTarget(opts);
  return lastTarget;
}

function program(): Command {
  const p = new Command('itinerant')
    .description('Start, follow and steer itinerant runbooks (Temporal workflows)')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  const command = (spec: string, description: string) => connectionOptions(p.command(spec).description(description));

  command('run <runbook>', `start a runbook: ${Object.values(RUNBOOKS).map((r) => `${r.name} (${r.summary})`).join('; ')}`)
    .option('--input <json>', 'input as JSON')
    .option('--input-file <path>', 'input file (.json, .yaml or .yml)')
    .option('--wait', 'follow progress until the run ends; exit 0 on success, 1 on failure')
    .option('--workflow-id <id>', 'override the workflow ID derived from the target')
    .action(
      act(async (name: string, o: ConnOpts & { input?: string; inputFile?: string; wait?: boolean; workflowId?: string }) => {
        const input = readInput(o);
        const start = prepareRun(name, input);
        return (await commands()).runCommand(await target(o), start, input, o);
      }),
    );

  command('status <workflowId>', 'status, phase, progress, pending activities, result or failure')
    .option('--json', 'machine-readable output')
    .action(act(async (id: string, o: ConnOpts & { json?: boolean }) => (await commands()).statusCommand(await target(o), id, o)));

  command('signal <workflowId> <signal>', `send a signal: ${knownSignals().join(', ')} (abort requires --reason)`)
    .option('--reason <text>', 'why (required for abort)')
    .action(
      act(async (id: string, signal: string, o: ConnOpts & { reason?: string }) => {
        const spec = signalSpec(signal);
        if (!spec) throw new CliError(`unknown signal "${signal}"; known signals: ${knownSignals().join(', ')}`, EXIT.usage);
        if (spec.reasonRequired && !o.reason?.trim()) throw new CliError(`${signal} requires --reason <text>`, EXIT.usage);
        if (!spec.reasonRequired && o.reason !== undefined) throw new CliError(`${signal} takes no --reason`, EXIT.usage);
        return (await commands()).signalCommand(await target(o), id, signal, o.reason);
      }),
    );

  command('answer <workflowId> <option>', 'answer the question a runbook is waiting on (see status); the runbook refuses an answer it does not offer')
    .option('--question <id>', 'the question meant (refused if another one is pending)')
    .option('--note <text>', 'why, recorded in the run')
    .action(
      act(async (id: string, option: string, o: ConnOpts & { question?: string; note?: string }) => (await commands()).answerCommand(await target(o), id, option, o)),
    );

  command('list', 'list runs, filtered by the Itinerant* search attributes')
    .option('--cluster <cluster>', 'only this cluster (ItinerantCluster)')
    .option('--runbook <runbook>', 'only this runbook (CLI name or workflow type)')
    .option('--running', 'only running executions')
    .option('--limit <n>', 'at most n rows', positiveInt, 50)
    .action(
      act(async (o: ConnOpts & { cluster?: string; runbook?: string; running?: boolean; limit: number }) => (await commands()).listCommand(await target(o), o)),
    );

  command('watch <workflowId>', 'follow a run until it ends, like run --wait').action(
    act(async (id: string, o: ConnOpts) => (await commands()).watchCommand(await target(o), id)),
  );
  const schedules = p.command('schedules').description('Temporal Schedules that drive continuous repaving');
  connectionOptions(schedules.command('apply').description('create or update one sweep Schedule per node group of the fleet file (idempotent)'))
    .option('--config <path>', CONFIG_HELP)
    .action(
      act(async (o: ConnOpts & { config?: string }) =>
        (await lanes()).schedulesApplyCommand(await target(o), { config: o.config ?? (await fleet()).defaultFleetConfig() }),
      ),
    );

  p.command('rbac')
    .description("the worker's Kubernetes RBAC")
    .command('render')
    .description("print the worker's RBAC for a cluster of the fleet file: ServiceAccount, ClusterRole for nodes and drains, a Role per stateful-service namespace (kubectl apply -f -)")
    .option('--config <path>', CONFIG_HELP)
    .option('--cluster <name>', 'the cluster (needed when the fleet file declares several)')
    .action(
      act(async (o: { config?: string; cluster?: string }) =>
        (await rbac()).rbacRenderCommand({ config: o.config ?? (await fleet()).defaultFleetConfig(), ...(o.cluster !== undefined ? { cluster: o.cluster } : {}) }),
      ),
    );

  p.command('codec-server')
    .description('serve the payload codec (ITINERANT_CODEC_KEYS_PATH) to the Temporal Web UI and CLI: POST /decode, /encode with a bearer token from ITINERANT_CODEC_SERVER_TOKENS_PATH')
    .option('--listen <[host:]port>', 'where to listen', '127.0.0.1:8089')
    .option('--cors-origin <origin...>', "the Web UI's origin(s), e.g. http://127.0.0.1:8080", [])
    .action(act(async (o: { listen: string; corsOrigin: string[] }) => (await codecServer()).codecServerCommand(o)));

  const lane = p.command('lane').description("look at or steer a node group's repaver lane");
  connectionOptions(lane.command('state <cluster> <group>').description('queue, in-flight repaves, breaker, pace, recent history'))
    .option('--json', 'machine-readable output')
    .action(act(async (cluster: string, group: string, o: ConnOpts & { json?: boolean }) => (await lanes()).laneStateCommand(await target(o), cluster, group, o)));
  for (const action of LANE_ACTIONS) {
    connectionOptions(lane.command(`${action} <cluster> <group>`).description(`send ${action} to the lane (starting it if needed)`)).action(
      act(async (cluster: string, group: string, o: ConnOpts) => (await lanes()).laneSignalCommand(await target(o), cluster, group, action)),
    );
  }
  connectionOptions(lane.command('set-pace <cluster> <group>').description('change the pace live (validated by the lane)'))
    .option('--concurrency <n>', 'repaves at once (1..maxUnavailable)', positiveInt)
    .option('--pause-between <duration>', 'pause between nodes, e.g. 10m')
    .option('--max-age <duration>', 'replace nodes older than this, e.g. 7d')
    .action(
      act(async (cluster: string, group: string, o: ConnOpts & { concurrency?: number; pauseBetween?: string; maxAge?: string }) =>
        (await lanes()).setPaceCommand(await target(o), cluster, group, {
          ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
          ...(o.pauseBetween !== undefined ? { pauseBetweenNodes: o.pauseBetween } : {}),
          ...(o.maxAge !== undefined ? { maxAge: o.maxAge } : {}),
        }),
      ),
    );

  command('report-unhealthy <cluster> <group> <node>', "report a node as unhealthy to its group's repaver lane (duplicates are harmless)")
    .requiredOption('--reason <text>', 'what is wrong')
    .action(
      act(async (cluster: string, group: string, node: string, o: ConnOpts & { reason: string }) =>
        (await lanes()).reportUnhealthyCommand(await target(o), { cluster, group, node, reason: o.reason }),
      ),
    );
  return p;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

let exitCode: number = EXIT.ok;
/** Commander ignores what actions return: keep the exit code each one resolves to. */
const act =
  <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
  async (...args: A) => {
    exitCode = await fn(...args);
  };

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return exitCode;
  } catch (e) {
    return report(e);
  }
}

async function report(e: unknown): Promise<number> {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander printed the message
  if (e instanceof CliError) {
    console.error(`itinerant: ${e.message}`);
    return e.exitCode;
  }
  const t = await temporal();
  if (lastTarget && t.isUnreachable(e)) {
    console.error(`itinerant: ${t.unreachable(lastTarget.address).message}`);
    return EXIT.failed;
  }
  console.error(`itinerant: ${failureChain(e).join(': ')}`);
  if (process.env.ITINERANT_DEBUG) console.error(e);
  return EXIT.failed;
}

process.exit(await main(process.argv));
