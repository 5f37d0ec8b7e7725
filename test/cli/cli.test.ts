import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readInput, prepareRun } from '../../src/cli/input.js';
import {
  clock,
  failureChain,
  formatDetails,
  formatFailure,
  formatTable,
  ProgressTracker,
  visibilityQuery,
  webUiLink,
} from '../../src/cli/progress.js';
import { findRunbook, knownSignals } from '../../src/cli/runbooks.js';
import { resolveTarget } from '../../src/cli/temporal.js';

const BIN = resolve(import.meta.dirname, '../../bin/itinerant.js');
// Nothing listens here: a command that got as far as connecting would fail with exit code 1, not 2.
const NO_SERVER = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' };

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: NO_SERVER, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('itinerant CLI refusals (no server needed)', () => {
  it('refuses invalid JSON', () => {
    const r = cli('run', 'repave-node', '--input', '{"cluster": sim-1}');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--input is not valid JSON/);
  });

  it('refuses input without node, naming the field', () => {
    const r = cli('run', 'repave-node', '--input', '{"cluster":"sim-1"}');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid input for repave-node: node: /);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('refuses unknown fields and bad durations with the schema message', () => {
    const r = cli('run', 'repave-node', '--input', '{"cluster":"sim-1","node":"n1","drainTimeout":"forever"}');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/drainTimeout/);
  });

  it('refuses an unknown runbook, listing the known ones', () => {
    const r = cli('run', 'repave-everything', '--input', '{}');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown runbook "repave-everything"; known runbooks: repave-node/);
  });

  it('refuses a run without input', () => {
    const r = cli('run', 'repave-node');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing input/);
  });

  it('reads and validates YAML input files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itinerant-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'in.yaml');
    writeFileSync(file, 'cluster: sim-1\nnode: Not_A_Node\n');
    const r = cli('run', 'repave-node', '--input-file', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/node: expected a Kubernetes node name/);
    const missing = cli('run', 'repave-node', '--input-file', join(dir, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --input-file .*nope\.json: ENOENT/);
  });

  it('refuses an unknown signal and abort without a reason', () => {
    const bad = cli('signal', 'repave-node.sim-1.n1', 'reboot');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown signal "reboot"; known signals: pause, resume, abort/);
    const abort = cli('signal', 'repave-node.sim-1.n1', 'abort');
    expect(abort.code).toBe(2);
    expect(abort.stderr).toMatch(/abort requires --reason/);
  });

  it('refuses lane and schedule commands with missing or malformed arguments before connecting', () => {
    const pace = cli('lane', 'set-pace', 'sim-1', 'general');
    expect(pace.code).toBe(2);
    expect(pace.stderr).toMatch(/set-pace needs at least one of --concurrency/);
    const badConcurrency = cli('lane', 'set-pace', 'sim-1', 'general', '--concurrency', 'lots');
    expect(badConcurrency.code).toBe(2);
    expect(badConcurrency.stderr).toMatch(/expected a positive integer/);
    const noReason = cli('report-unhealthy', 'sim-1', 'general', 'n1');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const badConfig = cli('schedules', 'apply', '--config', '/nonexistent/fleet.yaml');
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/cannot read fleet configuration \/nonexistent\/fleet.yaml/);
  });

  it('rbac render prints the RBAC of the cluster of a fleet file, needs --cluster when there are several, and refuses an unknown one', () => {
    const example = resolve(import.meta.dirname, '../../deploy/fleet.example.yaml');
    const one = cli('rbac', 'render', '--config', example);
    expect([one.code, one.stderr]).toEqual([0, '']);
    expect(one.stdout).toBe(readFileSync(resolve(import.meta.dirname, '../../deploy/rbac/worker.yaml'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'itinerant-rbac-cli-'));
    const two = join(dir, 'fleet.yaml');
    const cluster = (name: string, ns: string[]) => ({ name, kubeconfig: 'k', oci: { configFile: 'o' }, compartmentId: 'ocid1.compartment.oc1..x', statefulNamespaces: ns });
    writeFileSync(two, JSON.stringify({ clusters: [cluster('a', ['data']), cluster('b', ['cache', 'queue'])] }));
    const b = cli('rbac', 'render', '--config', two, '--cluster', 'b');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/statefulNamespaces\): cache, queue\./);
    expect(b.stdout).toMatch(/namespace: queue/);
    expect(b.stdout).not.toMatch(/namespace: data/);
    const ambiguous = cli('rbac', 'render', '--config', two);
    expect([ambiguous.code, ambiguous.stdout]).toEqual([2, '']);
    expect(ambiguous.stderr).toMatch(/declares several clusters \(a, b\): name one with --cluster/);
    const unknown = cli('rbac', 'render', '--config', two, '--cluster', 'c');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/cluster c is not in .*fleet\.yaml \(clusters: a, b\)/);
    writeFileSync(two, JSON.stringify({ clusters: [cluster('a', ['kube-system'])] }));
    const system = cli('rbac', 'render', '--config', two);
    expect(system.code).toBe(2);
    expect(system.stderr).toMatch(/statefulNamespaces\.0: kube-system, kube-public, kube-node-lease cannot hold stateful services/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses unknown commands and options with exit code 2', () => {
    expect(cli('frobnicate').code).toBe(2);
    expect(cli('list', '--limit', 'many').code).toBe(2);
  });

  it('valid input gets as far as connecting: one line naming the address, exit 1', () => {
    const r = cli('run', 'repave-node', '--input', '{"cluster":"sim-1","node":"general-abc12"}');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1 .*npm start/);
  });
});

describe('input and runbooks', () => {
  it('derives the workflow ID and search attribute values from the target', () => {
    const start = prepareRun('repave-node', readInput({ input: '{"cluster":"sim-1","node":"general-abc12"}' }));
    expect(start).toMatchObject({ workflowId: 'repave-node.sim-1.general-abc12', cluster: 'sim-1', target: 'general-abc12' });
    expect(start.runbook.workflowType).toBe('repaveNode');
    expect(findRunbook('toString')).toBeUndefined();
    expect(knownSignals()).toEqual(['pause', 'resume', 'abort', 'keepWaiting']);
    const decommission = prepareRun(
      'decommission-member',
      readInput({ input: '{"cluster":"sim-1","namespace":"data","statefulSet":"cassandra","member":"cassandra-3"}' }),
    );
    expect(decommission).toMatchObject({ workflowId: 'decommission.sim-1.data.cassandra', cluster: 'sim-1', target: 'data/cassandra-3' });
  });

  it('refuses --input together with --input-file', () => {
    expect(() => readInput({ input: '{}', inputFile: 'x.json' })).toThrow(/either --input or --input-file/);
  });

  it('resolves the address and namespace: flags over environment over defaults', () => {
    expect(resolveTarget({}, {})).toEqual({ address: '127.0.0.1:7233', namespace: 'default' });
    expect(resolveTarget({}, { TEMPORAL_ADDRESS: 'h:1', TEMPORAL_NAMESPACE: 'ns' })).toEqual({ address: 'h:1', namespace: 'ns' });
    expect(resolveTarget({ address: 'x:2' }, { TEMPORAL_ADDRESS: 'h:1' }).address).toBe('x:2');
  });
});

describe('formatting', () => {
  const t0 = new Date('2025-01-02T03:04:05.678Z');

  it('prints new phases and log lines once each', () => {
    const tr = new ProgressTracker();
    const log = [{ at: '2025-01-02T03:04:00.000Z', message: 'repaving n1' }];
    expect(tr.progress({ phase: 'validating', paused: false, log }, t0)).toEqual(['03:04:00Z   repaving n1', '03:04:05Z ▸ phase validating']);
    expect(tr.progress({ phase: 'validating', paused: false, log }, t0)).toEqual([]);
    const more = [...log, { at: '2025-01-02T03:04:06.000Z', message: 'paused by operator' }];
    expect(tr.progress({ phase: 'validating', paused: true, log: more }, t0)).toEqual(['03:04:06Z   paused by operator', '03:04:05Z ▸ paused in phase validating']);
    expect(tr.progress({ phase: 'draining', paused: false, log: more.slice(1) }, t0)).toEqual(['03:04:05Z ▸ phase draining']);
  });

  it('prints heartbeat details when they change', () => {
    const tr = new ProgressTracker();
    const a = { activityId: '7', activityType: 'drainNode', attempt: 1, heartbeatDetails: { evicted: ['default/a'], remaining: 2, blockedByPdb: [] } };
    expect(tr.activities([a], t0)).toEqual(['03:04:05Z   ♥ drainNode: evicted=[default/a] remaining=2 blockedByPdb=[]']);
    expect(tr.activities([a], t0)).toEqual([]);
    expect(tr.activities([{ ...a, attempt: 2, heartbeatDetails: { evicted: ['a', 'b', 'c', 'd', 'e'], remaining: 0 } }], t0)).toEqual([
      '03:04:05Z   ♥ drainNode: evicted=[a, b, c, … +2] remaining=0 (attempt 2)',
    ]);
    expect(tr.activities([{ ...a, activityId: '8', heartbeatDetails: undefined }], t0)).toEqual([]);
  });

  it('formats details compactly', () => {
    expect(formatDetails({ state: 'PROVISIONING', attempt: 1 })).toBe('state=PROVISIONING attempt=1');
    expect(formatDetails({ replacement: { nodeName: 'g-1', ready: true } })).toBe('replacement={nodeName=g-1, ready=true}');
    expect(formatDetails('plain text')).toBe('plain text');
    expect(formatDetails({ waitingFor: ['kube proxy'] })).toBe('waitingFor=["kube proxy"]');
    expect(clock('not a date')).toBe('not a date');
  });

  it('renders the failure chain, dropping the SDK wrapper', () => {
    const root = { name: 'ApplicationFailure', message: 'eviction blocked by PDB web', type: 'DrainTimeout' };
    const app = { name: 'ApplicationFailure', message: 'drain of n1 did not complete', type: 'RepaveFailed', cause: root };
    const err = { name: 'WorkflowFailedError', message: 'Workflow execution failed', cause: app };
    expect(failureChain(err)).toEqual(['drain of n1 did not complete (RepaveFailed)', 'eviction blocked by PDB web (DrainTimeout)']);
    expect(formatFailure(err)).toBe('drain of n1 did not complete (RepaveFailed)\n  caused by: eviction blocked by PDB web (DrainTimeout)');
    // proto Failure as found in describe().raw.pendingActivities[].lastFailure
    expect(failureChain({ message: 'HTTP 500', applicationFailureInfo: { type: 'OciError' } })).toEqual(['HTTP 500 (OciError)']);
  });

  it('formats tables, links and visibility queries', () => {
    expect(formatTable(['ID', 'STATUS'], [['repave-node.sim-1.a', 'RUNNING'], ['b', 'FAILED']])).toBe(
      'ID                   STATUS\nrepave-node.sim-1.a  RUNNING\nb                    FAILED',
    );
    expect(webUiLink('http://127.0.0.1:8233/', 'default', 'repave-node.sim-1.a')).toBe('http://127.0.0.1:8233/namespaces/default/workflows/repave-node.sim-1.a');
    expect(visibilityQuery({ cluster: 'sim-1', running: true })).toBe('ItinerantCluster = "sim-1" AND ExecutionStatus = "Running"');
    expect(visibilityQuery({ runbook: 'repaveNode', cluster: 'a"b' })).toBe('ItinerantCluster = "a\\"b" AND ItinerantRunbook = "repaveNode"');
    expect(visibilityQuery({})).toBe('');
  });
});
