// On the production-topology cluster (npm run test:temporal-cluster): the history service restarted while a repave
// drains, and the whole frontend restarted while one waits for its replacement; both runs finish, one replacement each.
import type { ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOptions } from '../../src/config/temporal-connection.js';
import { repaveNodeWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { TAG_REPLACES } from '../../src/core/labels.js';
import type { RepaveProgress } from '../../src/core/repave.js';
import { repaveNode } from '../../src/workflows/repave-node.js';
import { progressQueryOf } from '../../src/workflows/runbook.js';
import type { TemporalService } from '../../testbeds/temporal-cluster/cluster.js';
import { eventually, isReady, nodesOfGroup, spawnWorkerProcess, startStack, stopWorkerProcess, temporalFromEnv, type Stack } from '../helpers/stack.js';
import { giveUpIfExited, whileRunning } from '../helpers/wait.js';

const progressQuery = progressQueryOf<RepaveProgress>();

describe.skipIf(temporalFromEnv() !== 'cluster')('Temporal cluster: services restarted mid-run', () => {
  let stack: Stack;
  let worker: ChildProcess | undefined;
  beforeAll(async () => {
    stack = await startStack();
    worker = spawnWorkerProcess(stack);
  });
  afterAll(async () => {
    await stopWorkerProcess(worker, 'SIGTERM');
    await stack?.stop();
  });

  it('is the production topology: PostgreSQL persistence and visibility, several history shards, mTLS only', async () => {
    const info = await stack.client.workflowService.getClusterInfo({});
    expect(info.persistenceStore).toBe('postgres12');
    expect(info.visibilityStore).toBe('postgres12');
    expect(info.historyShardCount).toBe(Number(stack.server.cluster!.settings.NUM_HISTORY_SHARDS));
    expect(info.historyShardCount).toBeGreaterThan(1);
    const { tls: _, ...withoutClientCert } = stack.temporal;
    const refused = await Connection.connect({ ...connectionOptions(withoutClientCert), tls: { serverRootCACertificate: stack.temporal.tls!.serverRootCACertificate!, serverNameOverride: stack.temporal.tls!.serverNameOverride! }, connectTimeout: '3s' }).then(
      async (c) => c.workflowService.getSystemInfo({}).finally(() => c.close()),
    ).then(() => 'answered', (e: Error) => e.message);
    expect(refused).not.toBe('answered');
  });

  const cases: [TemporalService, RepaveProgress['phase']][] = [
    ['history', 'draining'],
    ['frontend', 'waiting-for-replacement'],
  ];
  it.each(cases)('the %s service restarted while the repave is %s: the run finishes with exactly one replacement', async (service, phase) => {
    const node = (await nodesOfGroup(stack.core, 'general')).filter((n) => isReady(n) && !n.spec?.unschedulable).map((n) => n.metadata!.name!).sort()[0]!;
    const launchesBefore = stack.sim.oci.counters().launches;
    stack.sim.kube.faults.evictionDelayMs = 5000; // a drain long enough to restart a service in
    const handle = await stack.client.workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId: repaveNodeWorkflowId('sim-1', node), args: [{ cluster: 'sim-1', node, reason: `restart ${service}` }] });
    await eventually(`repave ${phase}`, async () => {
      giveUpIfExited(worker);
      return (await handle.query(progressQuery)).phase === phase;
    }, 90_000, 100);
    await stack.server.cluster!.restart(service);
    stack.sim.kube.faults.evictionDelayMs = 500;
    const result = await whileRunning(handle.result(), worker!);
    expect(result.node).toBe(node);
    expect(stack.sim.oci.counters().launches - launchesBefore).toBe(1);
    expect(stack.sim.oci.fleet.listInstances({ compartmentId: stack.sim.compartmentId }).filter((i) => i.freeformTags?.[TAG_REPLACES] === node)).toHaveLength(1);
    expect((await nodesOfGroup(stack.core, 'general')).map((n) => n.metadata!.name)).not.toContain(node);
  }, 240_000);
});
