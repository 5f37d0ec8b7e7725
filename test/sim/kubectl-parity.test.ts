// Unmodified kubectl, as a new user runs it, against the test bed: the sim answers as kube-apiserver does.
// The same file runs against the real API server with ITINERANT_TESTBED=control-plane (npm run test:control-plane).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestbed, testbedFromEnv, type TestbedHandle } from '../../testbeds/index.js';
import { WORKER_USER } from '../../testbeds/worker-identity.js';
import { waitFor } from '../helpers/wait.js';

let bed: TestbedHandle;
let home: string;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'itinerant-kubectl-parity-'));
  bed = await startTestbed({ home, backend: testbedFromEnv() });
});
afterAll(async () => {
  await bed?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** kubectl as the worker (fleet.yaml's identity) or the administrator; its exit code and output, never thrown. */
function kubectl(as: 'worker' | 'admin', ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const kubeconfig = as === 'worker' ? bed.kubeconfigPath : (bed.adminKubeconfigPath ?? bed.kubeconfigPath);
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(home, `cache-${as}`), ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe(`kubectl as a new user runs it (${testbedFromEnv()} test bed)`, () => {
  it('apply validates against the OpenAPI schema (an unknown field is refused by name), explain reads it', async () => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: probe\n  namespace: shop\nspec:\n  replicaz: 1\n  selector: {matchLabels: {app: probe}}\n  template:\n    metadata: {labels: {app: probe}}\n    spec: {containers: [{name: probe, image: probe:1}]}\n');
    const refused = await kubectl('admin', 'apply', '-f', bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('unknown field "spec.replicaz"');
    expect(refused.stderr).not.toContain('failed to download openapi');
    const good = join(home, 'good.yaml');
    writeFileSync(good, readFileSync(bad, 'utf8').replace('replicaz', 'replicas'));
    const applied = await kubectl('admin', 'apply', '-f', good);
    expect(applied.stdout.trim(), applied.stderr).toBe('deployment.apps/probe created');
    expect((await kubectl('admin', 'delete', '-f', good)).code).toBe(0);
    const explained = await kubectl('admin', 'explain', 'deployment.spec.strategy');
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);
    expect(explained.stdout).toContain('rollingUpdate\t<RollingUpdateDeployment>');
    const pods = await kubectl('admin', 'explain', 'pods.spec.nodeName');
    expect(pods.stdout).toMatch(/FIELD: nodeName <string>/);
  });

  it('auth whoami names the worker and its groups', async () => {
    const r = await kubectl('worker', 'auth', 'whoami', '-o', 'json');
    expect(r.stderr).toBe('');
    const review = JSON.parse(r.stdout) as { kind: string; status: { userInfo: { username: string; groups: string[] } } };
    expect(review.kind).toBe('SelfSubjectReview');
    expect(review.status.userInfo.username).toBe(WORKER_USER);
    expect(review.status.userInfo.groups).toEqual(expect.arrayContaining(['system:serviceaccounts', 'system:serviceaccounts:itinerant', 'system:authenticated']));
  });

  it('auth can-i answers from the RBAC rules the API holds the worker to', async () => {
    const cases: [string[], 'yes' | 'no'][] = [
      [['create', 'pods', '--subresource=eviction', '-n', 'shop'], 'yes'],
      [['create', 'pods/eviction', '-n', 'shop'], 'no'], // TYPE/NAME: a pod named eviction, not the subresource
      [['patch', 'nodes'], 'yes'],
      [['create', 'pods', '--subresource=exec', '-n', 'data'], 'yes'],
      [['create', 'pods', '--subresource=exec', '-n', 'kube-system'], 'no'],
      [['delete', 'persistentvolumeclaims', '-n', 'shop'], 'no'],
      [['list', 'deployments.apps', '-n', 'shop'], 'no'],
      [['create', 'selfsubjectaccessreviews.authorization.k8s.io'], 'yes'],
    ];
    for (const [args, answer] of cases) {
      const r = await kubectl('worker', 'auth', 'can-i', ...args);
      expect(r.stdout.trim(), args.join(' ')).toBe(answer);
      expect(r.code, args.join(' ')).toBe(answer === 'yes' ? 0 : 1);
    }
  });

  it('auth can-i --list lists the rules of the namespace asked about', async () => {
    const rows = async (ns: string) => {
      const r = await kubectl('worker', 'auth', 'can-i', '--list', '-n', ns);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]);
    };
    const data = await rows('data');
    expect(data).toEqual(expect.arrayContaining(['pods/exec', 'persistentvolumeclaims', 'pods/eviction', 'nodes', 'selfsubjectaccessreviews.authorization.k8s.io', 'selfsubjectrulesreviews.authorization.k8s.io']));
    const shop = await rows('shop');
    expect(shop).toContain('pods/eviction');
    expect(shop).not.toContain('pods/exec');
  });

  it('logs: a line for a running pod; an unknown container is refused', async () => {
    const pod = await waitFor(
      'a Running web pod',
      async () => {
        const pods = JSON.parse((await kubectl('admin', 'get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'json')).stdout) as { items: { metadata: { name: string }; status: { phase: string } }[] };
        return pods.items.find((p) => p.status.phase === 'Running')?.metadata.name;
      },
      60_000,
    );
    const ok = await kubectl('admin', 'logs', '-n', 'shop', pod);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(1);
    const bad = await kubectl('admin', 'logs', '-n', 'shop', pod, '-c', 'nope');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(`error: container nope is not valid for pod ${pod}`);
  });

  it('get events (core/v1 and events.k8s.io/v1) shows the scheduler placing pods; get leases and describe node show the kubelet lease and the events of each node', async () => {
    const events = await waitFor('Scheduled events in shop', async () => {
      const r = await kubectl('admin', 'get', 'events', '-n', 'shop', '-o', 'json');
      const items = (JSON.parse(r.stdout) as { items: { reason: string; involvedObject: { kind: string } }[] }).items;
      return items.some((e) => e.reason === 'Scheduled' && e.involvedObject.kind === 'Pod') && items;
    }, 30_000);
    expect(events.length).toBeGreaterThan(0);
    const v1 = JSON.parse((await kubectl('admin', 'get', 'events.v1.events.k8s.io', '-n', 'shop', '-o', 'json')).stdout) as { items: { apiVersion: string; reason: string; note: string; regarding: { kind: string } }[] };
    expect(v1.items.find((e) => e.reason === 'Scheduled')).toMatchObject({ apiVersion: 'events.k8s.io/v1', regarding: { kind: 'Pod' }, note: expect.stringMatching(/^Successfully assigned shop\//) });
    const table = await kubectl('admin', 'get', 'events', '-n', 'shop');
    expect(table.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(table.stdout).toMatch(/Normal\s+Scheduled\s+pod\/\S+\s+Successfully assigned shop\//);

    const nodes = JSON.parse((await kubectl('admin', 'get', 'nodes', '-l', 'itinerant.dev/node-group=general', '-o', 'json')).stdout) as { items: { metadata: { name: string } }[] };
    const node = nodes.items[0]!.metadata.name;
    const leases = await waitFor('a lease per node', async () => {
      const r = await kubectl('admin', 'get', 'leases', '-n', 'kube-node-lease', '-o', 'json');
      const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string }; spec: { holderIdentity: string; renewTime: string } }[] }).items;
      return items.find((l) => l.metadata.name === node);
    }, 30_000);
    expect(leases.spec.holderIdentity).toBeTruthy(); // the kubelet's node name (KWOK, playing it, puts its own)
    expect(Date.parse(leases.spec.renewTime)).toBeGreaterThan(Date.now() - 60_000);
    const described = await waitFor('describe node with its events', async () => {
      const r = await kubectl('admin', 'describe', 'node', node);
      return /RegisteredNode/.test(r.stdout) && r.stdout;
    }, 30_000);
    expect(described).toMatch(/Lease:\s+HolderIdentity:\s+\S+\s+AcquireTime:\s+\S+\s+RenewTime:\s+\w{3}, /);
    expect(described).toMatch(/Events:\s+Type\s+Reason\s+Age\s+From\s+Message/);
  });

  it('drain --disable-eviction deletes the pods (kubectl sends DeleteOptions as protobuf), then uncordon', async () => {
    const nodes = JSON.parse((await kubectl('admin', 'get', 'nodes', '-l', 'itinerant.dev/node-group=batch', '-o', 'json')).stdout) as { items: { metadata: { name: string } }[] };
    const node = nodes.items[0]!.metadata.name;
    const r = await kubectl('admin', 'drain', node, '--disable-eviction', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=60s');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node/${node} drained`);
    const left = JSON.parse((await kubectl('admin', 'get', 'pods', '-A', '--field-selector', `spec.nodeName=${node}`, '-o', 'json')).stdout) as {
      items: { metadata: { ownerReferences?: { kind: string }[]; annotations?: Record<string, string> } }[];
    };
    // what drain leaves: DaemonSet pods and mirror pods
    expect(left.items.every((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' || o.kind === 'Node') || p.metadata.annotations?.['kubernetes.io/config.mirror'])).toBe(true);
    expect((await kubectl('admin', 'uncordon', node)).code).toBe(0);
  });
});
