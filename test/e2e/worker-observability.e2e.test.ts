// The worker process as deployed, observed: its metrics port (the SDK runtime's metrics and ours) scraped while a
// repave runs and after, its health endpoints, its activities' JSON log lines naming run, runbook and target, and its
// audit stream against the sim's own record of what was done.
import * as k8s from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repaveNodeWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { freeLoopbackAddress } from '../../src/workers/metrics-server.js';
import { repaveNode } from '../../src/workflows/repave-node.js';
import { eventually, isReady, nodesOfGroup, spawnWorkerProcess, startStack, stopWorkerProcess, type Stack } from '../helpers/stack.js';
import { itinerant } from '../helpers/cli.js';
import { giveUpIfExited, whileRunning } from '../helpers/wait.js';

let stack: Stack;
let worker: ChildProcess | undefined;
let metricsAddress: string;
let stdout = '';
let auditFile: string;
beforeAll(async () => {
  stack = await startStack();
  metricsAddress = await freeLoopbackAddress();
  auditFile = join(stack.home, 'audit.jsonl');
  worker = spawnWorkerProcess(stack, undefined, { captureOutput: true, env: { ITINERANT_METRICS_ADDRESS: metricsAddress, ITINERANT_LOG_LEVEL: 'DEBUG', ITINERANT_AUDIT_LOG: auditFile } });
  worker.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
});
afterAll(async () => {
  await stopWorkerProcess(worker, 'SIGTERM');
  await stack?.stop();
});

/** Sample values of a metric family, keyed by their label set as Prometheus prints it. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) out.set(m[1] ?? '', Number(m[2]));
  return out;
}
const scrape = async (path = '/metrics') => fetch(`http://${metricsAddress}${path}`);

describe('worker observability (worker process, metrics port, JSON logs)', () => {
  it('is ready once polling; a repave moves our counters and the SDK metrics are served on the same port', async () => {
    await eventually('worker ready', async () => {
      giveUpIfExited(worker);
      return (await scrape('/readyz')).status === 200;
    }, 90_000);
    expect((await scrape('/healthz')).status).toBe(200);
    const before = await (await scrape()).text();
    expect(samples(before, 'itinerant_nodes_repaved_total').size).toBe(0);

    const target = (await nodesOfGroup(stack.core, 'general')).find(isReady)!;
    const node = target.metadata!.name!;
    const oldInstance = target.spec!.providerID!.replace('oci://', '');
    const [ociBefore, kubeBefore] = [stack.sim.oci.counters(), stack.sim.kube.counters()];
    const workflowId = repaveNodeWorkflowId('sim-1', node);
    // Evictions linger, so that the run is still draining when the CLI's pause and resume arrive (a repave is 7 activities now).
    const evictionDelayMs = stack.sim.kube.faults.evictionDelayMs;
    stack.sim.kube.faults.evictionDelayMs = 10_000;
    const handle = await stack.client.workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: 'sim-1', node, reason: 'metrics' }] });
    // Scraped during the run: started, not yet completed.
    const during = await eventually('runbook counted as started', async () => {
      const t = await (await scrape()).text();
      return samples(t, 'itinerant_runbooks_started_total').get('{runbook="repaveNode",cluster="sim-1"}') === 1 && t;
    }, 30_000, 100);
    expect(samples(during, 'itinerant_runbooks_completed_total').get('{runbook="repaveNode",cluster="sim-1"}') ?? 0).toBe(0);
    // An operator pauses and resumes it with the CLI: the audit stream says who.
    for (const args of [['pause'], ['resume']]) {
      const r = await itinerant(stack.temporal.address, ['signal', workflowId, ...args], stack.temporal.env).done;
      expect(r.code, r.stderr).toBe(0);
    }
    stack.sim.kube.faults.evictionDelayMs = evictionDelayMs;
    const result = await whileRunning(handle.result(), worker!);

    const after = await (await scrape()).text();
    expect(samples(after, 'itinerant_runbooks_completed_total').get('{runbook="repaveNode",cluster="sim-1"}')).toBe(1);
    expect(samples(after, 'itinerant_nodes_repaved_total').get('{cluster="sim-1"}')).toBe(1);
    expect(samples(after, 'itinerant_drain_duration_seconds_count').get('{cluster="sim-1",outcome="drained"}')).toBe(1);
    // The SDK runtime's own metrics (Core's Prometheus exporter), merged in: its workflow completions for the type.
    expect(after).toMatch(/^temporal_workflow_completed\{[^}]*workflow_type="repaveNode"[^}]*\} [1-9]/m);
    expect(after).toMatch(/^temporal_activity_execution_latency_(bucket|count|sum)\{/m);

    // Activity log lines: JSON, with the run's IDs, runbook and target.
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const activityLines = lines.filter((l) => l.workflowId === workflowId && typeof l.activityType === 'string');
    expect(activityLines.length).toBeGreaterThan(0);
    for (const l of activityLines) {
      expect(l).toMatchObject({ workflowRunId: handle.firstExecutionRunId, runbook: 'repaveNode' });
      expect(l.taskToken).toBeUndefined();
    }
    // Once an activity has read its request (the SDK's own "started" line comes before), its lines name cluster and target.
    const completed = activityLines.filter((l) => l.msg === 'activity completed');
    expect(completed.map((l) => l.activityType)).toEqual(expect.arrayContaining(['cordonAndDrain', 'retireNode']));
    for (const l of completed) expect(l, String(l.activityType)).toMatchObject({ cluster: 'sim-1', durationMs: expect.any(Number) });
    for (const type of ['cordonAndDrain', 'retireNode']) expect(completed.find((l) => l.activityType === type)!.target, type).toBe(node);
    expect(result.node).toBe(node);

    // The audit stream: one line per side effect, naming the run, and the same effects the sim recorded.
    type Audit = { who: Record<string, string>; what: { action: string; cluster: string; target?: string; request: Record<string, unknown>; result?: Record<string, unknown> }; outcome: string; at: string };
    const auditLines = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Audit);
    const operator = `${userInfo().username}@${hostname()} (itinerant CLI)`;
    expect(auditLines.filter((a) => a.outcome === 'received')).toEqual([
      expect.objectContaining({ who: { runbook: 'repaveNode', workflowId, runId: handle.firstExecutionRunId, operator }, what: { action: 'pause' } }),
      expect.objectContaining({ who: { runbook: 'repaveNode', workflowId, runId: handle.firstExecutionRunId, operator }, what: { action: 'resume' } }),
    ]);
    const audit = auditLines.filter((a) => a.outcome !== 'received');
    for (const a of audit) expect(a.who, a.what.action).toEqual({ runbook: 'repaveNode', workflowId, runId: handle.firstExecutionRunId });
    const done = (action: string) => audit.filter((a) => a.what.action === action && a.outcome === 'done');
    // (a completed repave deletes its claimed node, so there is no release)
    // (cordon and drain, node deletion and instance termination are one activity each since the patch repave-folded-steps)
    expect(audit.map((a) => `${a.what.action} ${a.outcome}`)).toEqual(['claimNode', 'launchReplacement', 'cordonAndDrain', 'retireNode'].map((x) => `${x} done`));
    const [ociAfter, kubeAfter] = [stack.sim.oci.counters(), stack.sim.kube.counters()];
    expect(done('launchReplacement').filter((a) => a.what.result!.created)).toHaveLength(ociAfter.launches - ociBefore.launches);
    expect(done('launchReplacement')[0]!.what.result!.instanceId).toBe(result.replacement!.instanceId);
    expect(done('retireNode').map((a) => a.what.request.instanceId)).toEqual([oldInstance]);
    expect(ociAfter.terminations - ociBefore.terminations).toBe(1);
    expect(done('cordonAndDrain')[0]!.what.result!.evictedCount).toBe(kubeAfter.evictions - kubeBefore.evictions);
    expect(done('cordonAndDrain')[0]!.what.target).toBe(node);
    expect(done('retireNode')[0]!.what).toMatchObject({ target: node, result: { deleted: true, lifecycleState: 'TERMINATING' } });

    // Kubernetes Events on the node, written as the worker's own identity, naming the workflow.
    const events = (await stack.admin.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({ namespace: 'default' })).items.filter((e) => e.source?.component === 'itinerant' && e.involvedObject?.kind === 'Node' && e.involvedObject.name === node)
      .sort((a, b) => new Date(a.firstTimestamp!).getTime() - new Date(b.firstTimestamp!).getTime());
    expect(events.map((e) => e.reason)).toEqual(['Repaving', 'Draining', 'Replaced']);
    for (const e of events) expect(e.message).toContain(`repaveNode ${workflowId}`);
  });
});
