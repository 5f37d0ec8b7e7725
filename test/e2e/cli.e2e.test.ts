import { afterAll, beforeAll, expect, it } from 'vitest';
import { itinerant as run } from '../helpers/cli.js';
import { eventually, isReady, nodesOfGroup, runWorker, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let worker: { stop(): Promise<void> } | undefined;

beforeAll(async () => {
  stack = await startStack();
  worker = await runWorker(stack);
});
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const itinerant = (args: string[]) => run(stack.server.address, args);

it('itinerant run repave-node --wait repaves a node, prints progress, and refuses a second run on the same node', async () => {
  const [target] = (await nodesOfGroup(stack.core, 'batch')).filter(isReady);
  const node = target!.metadata!.name!;
  const input = JSON.stringify({ cluster: 'sim-1', node, reason: 'cli e2e' });
  const first = itinerant(['run', 'repave-node', '--input', input, '--wait']);
  await eventually('the first run to start', async () => first.output().includes('started repaveNode'), 30_000);
  const second = await itinerant(['run', 'repave-node', '--input', input]).done;
  expect(second.code).toBe(3);
  expect(second.stderr).toMatch(`node ${node} is already being repaved`);

  const result = await first.done;
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/phase waiting-for-replacement/);
  expect(result.stdout).toMatch(/replacement \S+ is Ready/);
  expect(result.stdout).toMatch(`repave-node.sim-1.${node} completed`);
  expect((await nodesOfGroup(stack.core, 'batch')).map((n) => n.metadata!.name)).not.toContain(node);

  const status = await itinerant(['status', `repave-node.sim-1.${node}`, '--json']).done;
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout).status).toBe('COMPLETED');
});
