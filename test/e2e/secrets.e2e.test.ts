import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import YAML from 'yaml';
import { repaveNodeWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { repaveNode } from '../../src/workflows/repave-node.js';
import { spawnWorkerProcess, startStack, stopWorkerProcess, type Stack } from '../helpers/stack.js';
import { whileRunning } from '../helpers/wait.js';

// A secret in a credentials file must never reach workflow history (the UI shows it) or the worker's log, even when
// the file is broken and its parser quotes the lines around the error.
const TOKEN = 'e2e-s3cr3t-t0ken-4f1d9c';
const KEY_DATA = 'LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCg';

let stack: Stack;
let worker: ChildProcess | undefined;
let output = '';
let kubeconfig = '';

beforeAll(async () => {
  stack = await startStack();
  // The fleet file the worker reads gains a cluster whose kubeconfig has a token and a key around a broken line.
  kubeconfig = join(dirname(stack.sim.fleetConfigPath), 'leaky.kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: ${TOKEN}\n   client-key-data: ${KEY_DATA}\nclusters: []\ncontexts: []\n`,
  );
  const fleet = YAML.parse(readFileSync(stack.sim.fleetConfigPath, 'utf8')) as { clusters: Record<string, unknown>[] };
  fleet.clusters.push({ ...fleet.clusters[0], name: 'leaky', kubeconfig, nodeGroups: [] });
  writeFileSync(stack.sim.fleetConfigPath, YAML.stringify(fleet));
  worker = spawnWorkerProcess(stack, stack.server, { captureOutput: true });
  worker.stdout?.on('data', (d) => (output += d));
  worker.stderr?.on('data', (d) => (output += d));
});
afterAll(async () => {
  await stopWorkerProcess(worker, 'SIGTERM');
  await stack?.stop();
});

it('a broken kubeconfig: the run is refused naming the file and line; no token or key in its history or the worker log', async () => {
  const handle = await stack.client.workflow.start(repaveNode, {
    taskQueue: TASK_QUEUE,
    workflowId: repaveNodeWorkflowId('leaky', 'leaky-node-1'),
    args: [{ cluster: 'leaky', node: 'leaky-node-1' }],
  });
  const err = await whileRunning(handle.result(), worker!).then(
    () => undefined,
    (e: unknown) => e as { cause?: { type?: string; message?: string } },
  );
  expect(err?.cause?.type).toBe('Refused');
  expect(err?.cause?.message).toBe(`refused to repave leaky-node-1: cluster leaky: cannot load kubeconfig ${kubeconfig}: line 7, column 4: bad indentation of a mapping entry`);

  const history = JSON.stringify(await handle.fetchHistory());
  expect(history).toContain('bad indentation of a mapping entry'); // the failure is in it...
  expect(history).not.toContain(TOKEN); // ...and the secrets are not
  expect(history).not.toContain(KEY_DATA.slice(0, 16));
  expect(output).toContain('leaky');
  expect(output).not.toContain(TOKEN);
  expect(output).not.toContain(KEY_DATA.slice(0, 16));
});
