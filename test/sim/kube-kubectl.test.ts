// Unmodified kubectl against the simulated API server (HTTPS side of the port, bearer token).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeSim, type KubeSim } from '../../testbeds/sim/kube/index.js';
import { GiveUp, waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
let sim: KubeSim;
let dir: string;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', path.join(dir, 'kubeconfig'), '--cache-dir', path.join(dir, 'cache'), ...args], { timeout: 20_000 });
  return stdout;
}

/** Wait until `check` holds (15 s at most: kubectl is a process of its own on a busy machine); fail naming `what` otherwise. */
const settle = (what: string, check: () => Promise<boolean>) => waitFor(what, check, 15_000);

beforeAll(async () => {
  sim = createKubeSim({
    clusterName: 'kubectl-test',
    token: 'kubectl-token',
    controllerDelayMs: 10,
    faults: { errorRate: 0, errorStatus: 500, evictionDelayMs: 100, blockEvictions: false, podStartDelayMs: 50 },
  });
  await sim.listen(0);
  dir = await mkdtemp(path.join(tmpdir(), 'kube-sim-kubectl-'));
  await writeFile(path.join(dir, 'kubeconfig'), sim.kubeconfig(), { mode: 0o600 });
  for (const n of ['worker-1', 'worker-2']) sim.cluster.registerNode({ name: n, providerID: `oci://${n}`, labels: { 'itinerant.dev/node-group': 'workers' }, ready: true });
  sim.cluster.registerNode({ name: 'cp-1', providerID: 'oci://cp-1', labels: { 'node-role.kubernetes.io/control-plane': '' }, taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }], ready: true });
  sim.cluster.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
  });
  sim.cluster.apply({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'shop' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } });
  await settle('both web pods Running', async () => sim.store.list('pods', 'shop').filter((p) => p.status?.phase === 'Running').length === 2);
});

afterAll(async () => {
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kubectl against the kube sim', () => {
  it('get nodes shows the usual columns', async () => {
    const out = await kubectl('get', 'nodes');
    const [header, ...rows] = out.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    expect(rows.map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      ['cp-1', 'Ready', 'control-plane'],
      ['worker-1', 'Ready', '<none>'],
      ['worker-2', 'Ready', '<none>'],
    ]);
    expect(out).toContain('v1.32.1');
  });

  it('get pods -A and -o wide', async () => {
    const all = await kubectl('get', 'pods', '-A');
    expect(all.split('\n')[0]!.split(/\s{2,}/)).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(all).toMatch(/shop\s+web-\w+-\w{5}\s+1\/1\s+Running/);
    const wide = await kubectl('get', 'pods', '-n', 'shop', '-o', 'wide');
    expect(wide.split('\n')[0]).toMatch(/IP\s+NODE\s+NOMINATED NODE/);
    expect(wide).toMatch(/10\.244\.\d+\.\d+\s+worker-\d/);
    const pdb = await kubectl('get', 'pdb', '-A');
    expect(pdb).toMatch(/shop\s+web\s+1\s+N\/A\s+1/);
  });

  it('cordon shows SchedulingDisabled, uncordon clears it', async () => {
    expect(await kubectl('cordon', 'worker-1')).toContain('node/worker-1 cordoned');
    expect(await kubectl('get', 'node', 'worker-1')).toMatch(/worker-1\s+Ready,SchedulingDisabled/);
    expect(await kubectl('uncordon', 'worker-1')).toContain('node/worker-1 uncordoned');
    expect(await kubectl('get', 'node', 'worker-1')).toMatch(/worker-1\s+Ready\s/);
  });

  it('get nodes -w streams changes', async () => {
    const child = spawn('kubectl', ['--kubeconfig', path.join(dir, 'kubeconfig'), '--cache-dir', path.join(dir, 'cache'), 'get', 'nodes', '-w']);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await settle('kubectl -w to list worker-2', async () => out.includes('worker-2'));
      sim.cluster.setNodeReady('worker-2', false);
      await settle('kubectl -w to show worker-2 NotReady', async () => /worker-2\s+NotReady/.test(out));
      expect(out).toMatch(/worker-2\s+NotReady/);
      sim.cluster.setNodeReady('worker-2', true);
      await settle('kubectl -w to show worker-2 Ready again', async () => (out.match(/worker-2\s+Ready/g) ?? []).length >= 2);
    } finally {
      child.kill();
    }
    expect(out.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
  });

  it('get node -o json returns the Node object', async () => {
    const node = JSON.parse(await kubectl('get', 'node', 'worker-2', '-o', 'json')) as { kind: string; spec: { providerID: string }; status: { nodeInfo: { kubeletVersion: string } } };
    expect(node.kind).toBe('Node');
    expect(node.spec.providerID).toBe('oci://worker-2');
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.32.1');
  });

  it('drain evicts through the eviction API and honours the PDB', async () => {
    // The scheduler spread the two web pods over worker-1 and worker-2. A budget of 2 of 2 allows no
    // disruption: kubectl's eviction of worker-1's pod must be refused (429) and retried, the pod kept,
    // until the budget is relaxed to 1 of 2.
    const webOn = (node: string) => sim.store.list('pods', 'shop').filter((p) => p.spec?.nodeName === node && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    const [held] = webOn('worker-1');
    expect(held, 'a web pod on worker-1 for the drain to evict').toBeDefined();
    const before = sim.counters();
    await kubectl('patch', 'pdb', 'web', '-n', 'shop', '--type=merge', '-p', '{"spec":{"minAvailable":2}}');
    let finished = false;
    const drain = run('kubectl', ['--kubeconfig', path.join(dir, 'kubeconfig'), '--cache-dir', path.join(dir, 'cache'), 'drain', 'worker-1', '--ignore-daemonsets', '--timeout=30s'], { timeout: 40_000 })
      .finally(() => (finished = true));
    drain.catch(() => undefined); // awaited below; a refusal of the wait must not leave it unhandled
    try {
      await waitFor('an eviction refused by the PDB', () => {
        if (finished) throw new GiveUp('kubectl drain finished before any eviction was refused');
        return sim.counters().evictionsRefused > before.evictionsRefused;
      }, 15_000);
      // Refused, so the pod still runs where it was.
      expect(webOn('worker-1').map((p) => p.metadata.name)).toEqual([held!.metadata.name]);
    } finally {
      await kubectl('patch', 'pdb', 'web', '-n', 'shop', '--type=merge', '-p', '{"spec":{"minAvailable":1}}');
    }
    const { stdout: out, stderr } = await drain;
    expect(stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(out).toContain('node/worker-1 drained');
    expect(sim.counters().evictions - before.evictions).toBeGreaterThanOrEqual(1);
    expect(sim.counters().deletedPods).toBe(0);
    const pods = await kubectl('get', 'pods', '-n', 'shop', '-o', 'wide');
    expect(pods).not.toMatch(/Running\s+\d+\s+\S+\s+\S+\s+worker-1/);
  });
});
