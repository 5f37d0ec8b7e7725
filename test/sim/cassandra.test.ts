// The Cassandra ring in a StatefulSet, driven through the real pods/exec API: client-node's Exec
// (WebSocket, v5/v4.channel.k8s.io) and unmodified kubectl.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CassandraSim } from '../../testbeds/sim/cassandra/index.js';
import type { KubeSim } from '../../testbeds/sim/kube/index.js';
import { rt } from '../../testbeds/sim/kube/resources.js';
import { execIn, NS, sink, startCassandraRing, until } from '../helpers/cassandra-ring.js';

const run = promisify(execFile);
let kube: KubeSim;
let cass: CassandraSim;
let kc: k8s.KubeConfig;
let dir: string;
let stopRing: (() => Promise<void>) | undefined;

const exec = (pod: string, argv: string[]) => execIn(kc, pod, argv);

async function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', path.join(dir, 'kubeconfig'), '--cache-dir', path.join(dir, 'cache'), ...args], { timeout: 20_000 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout: string; stderr: string; code: number };
    return { stdout: x.stdout, stderr: x.stderr, code: x.code };
  }
}

const podsOf = () => kube.store.list('pods', NS).map((p) => p.metadata.name).sort();
const scale = (replicas: number) => kube.api.patch(rt('statefulsets'), NS, 'cassandra', 'merge', { spec: { replicas } });

beforeAll(async () => {
  ({ kube, kc, cass, stop: stopRing } = await startCassandraRing('cassandra-test'));
  dir = await mkdtemp(path.join(tmpdir(), 'cassandra-sim-'));
  await writeFile(path.join(dir, 'kubeconfig'), kube.kubeconfig(), { mode: 0o600 });
});

afterAll(async () => {
  await stopRing?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Cassandra ring over pods/exec', () => {
  it('StatefulSet creates data-cassandra-N claims, Bound, mounted by the pods', async () => {
    const claims = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPersistentVolumeClaim({ namespace: NS });
    expect(claims.items.map((c) => c.metadata?.name).sort()).toEqual(['data-cassandra-0', 'data-cassandra-1', 'data-cassandra-2', 'data-cassandra-3']);
    for (const c of claims.items) {
      expect(c.status?.phase).toBe('Bound');
      expect(c.spec?.volumeName).toMatch(/^pvc-/);
      expect(c.status?.capacity?.['storage']).toBe('200Gi');
    }
    const pod = kube.store.get('pods', NS, 'cassandra-2')!;
    expect(pod.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-cassandra-2' } });
    const out = await kubectl('get', 'pvc', '-n', NS);
    expect(out.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    expect(out.stdout).toMatch(/data-cassandra-0\s+Bound\s+pvc-[0-9a-f-]+\s+200Gi\s+RWO\s+oci-bv\s+<unset>/);
  });

  it('nodetool status through client-node Exec: 4 x UN, the 4.1 layout', async () => {
    const r = await exec('cassandra-0', ['nodetool', 'status']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 4)).toEqual(['Datacenter: dc1', '===============', 'Status=Up/Down', '|/ State=Normal/Leaving/Joining/Moving']);
    expect(lines[4]).toMatch(/^--\s+Address\s+Load\s+Tokens\s+Owns\s+Host ID\s+Rack\s*$/);
    const rows = lines.filter((l) => /^[UD][NLJM] /.test(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/^UN {2}10\.244\.\d+\.\d+\s+\d+(\.\d+)? GiB\s+16\s+\?\s+[0-9a-f-]{36}\s+rack1\s*$/);
    // different replication in shop and analytics: no effective ownership, as the real nodetool says
    expect(r.stdout).toContain("Note: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless");
    const ks = await exec('cassandra-1', ['nodetool', 'status', 'shop']);
    expect(ks.stdout).toMatch(/Owns \(effective\)/);
    const owns = ks.stdout.split('\n').filter((l) => l.startsWith('UN')).map((l) => Number(/ (\d+\.\d)% /.exec(l)![1]));
    expect(owns.reduce((a, b) => a + b, 0)).toBeCloseTo(300, 0); // RF 3 over the ring
  });

  it('netstats, info, describecluster and cqlsh', async () => {
    const n = await exec('cassandra-1', ['nodetool', 'netstats']);
    expect(n.stdout).toMatch(/^Mode: NORMAL\nNot sending any streams\.\nRead Repair Statistics:\nAttempted: 0\n/);
    expect(n.stdout).toMatch(/Pool Name\s+Active\s+Pending\s+Completed\s+Dropped\nLarge messages\s+n\/a\s+0\s+\d+\s+0/);
    const i = await exec('cassandra-1', ['nodetool', 'info']);
    const member = cass.member(NS, 'cassandra-1')!;
    expect(i.stdout).toContain(`ID                     : ${member.hostId}\n`);
    expect(i.stdout).toMatch(/Gossip active {10}: true\nNative Transport active: true\nLoad {19}: [\d.]+ GiB\n/);
    expect(i.stdout).toMatch(/Data Center {12}: dc1\nRack {19}: rack1\n/);
    const d = await exec('cassandra-1', ['nodetool', 'describecluster']);
    expect(d.stdout).toMatch(/Live: 4\n/);
    const q = await exec('cassandra-1', ['cqlsh', '-e', 'SELECT keyspace_name, replication FROM system_schema.keyspaces;']);
    expect(q.exitCode).toBe(0);
    expect(q.stdout).toMatch(/^\n keyspace_name +\| replication\n-+\+-+\n/);
    expect(q.stdout).toMatch(/ +shop \| +\{'class': 'org\.apache\.cassandra\.locator\.NetworkTopologyStrategy', 'dc1': '3'\}\n/);
    expect(q.stdout).toMatch(/analytics \| +\{'class': 'org\.apache\.cassandra\.locator\.NetworkTopologyStrategy', 'dc1': '2'\}\n/);
    expect(q.stdout).toMatch(/system_distributed \| \{'class': 'org\.apache\.cassandra\.locator\.SimpleStrategy', 'replication_factor': '3'\}\n/);
    expect(q.stdout).toMatch(/\n\n\(7 rows\)\n$/);
  });

  it('unknown command: exit 127, command not found on stderr', async () => {
    const r = await exec('cassandra-0', ['frobnicate', '--now']);
    expect(r.exitCode).toBe(127);
    expect(r.status.reason).toBe('NonZeroExitCode');
    expect(r.stderr).toContain('frobnicate: command not found');
  });

  it('decommission: LEAVING with growing bytes, refused while leaving and once left, then DECOMMISSIONED and gone from status', async () => {
    cass.faults.decommissionStreamMs = 1500;
    const first = exec('cassandra-3', ['nodetool', 'decommission']);
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await until('LEAVING', () => cass.member(NS, 'cassandra-3')?.mode === 'LEAVING');

    const sent = async () => {
      const n = await exec('cassandra-3', ['nodetool', 'netstats']);
      expect(n.stdout).toMatch(/^Mode: LEAVING\nUnbootstrap [0-9a-f-]{36}\n {4}\/10\.244\.\d+\.\d+\n {8}Sending \d+ files, \d+ bytes total\. Already sent \d+ files \([\d.]+%\), \d+ bytes total \([\d.]+%\) \n/);
      return [...n.stdout.matchAll(/Already sent \d+ files \([\d.]+%\), (\d+) bytes total/g)].reduce((s, m) => s + Number(m[1]), 0);
    };
    const b1 = await sent();
    await new Promise((r) => setTimeout(r, 200));
    const b2 = await sent();
    expect(b2).toBeGreaterThan(b1);
    const st = await exec('cassandra-0', ['nodetool', 'status']);
    expect(st.stdout).toMatch(new RegExp(`UL {2}${cass.member(NS, 'cassandra-3')!.address.replace(/\./g, '\\.')} `));

    const again = await exec('cassandra-3', ['nodetool', 'decommission']);
    expect(again.exitCode).toBe(1);
    expect(again.stdout).toBe("nodetool: Node is still decommissioning. Check nodetool netstats.\nSee 'nodetool help' or 'nodetool help <command>'.\n");
    expect(firstDone).toBe(false); // the first call still blocks

    const r = await first;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    const m = cass.member(NS, 'cassandra-3')!;
    expect(m.mode).toBe('DECOMMISSIONED');
    expect(m.lastStream?.sentBytes).toBe(m.lastStream?.totalBytes);

    const status = await exec('cassandra-1', ['nodetool', 'status']);
    expect(status.stdout).not.toContain(m.hostId);
    expect(status.stdout.split('\n').filter((l) => l.startsWith('UN'))).toHaveLength(3);
    const net = await exec('cassandra-3', ['nodetool', 'netstats']);
    expect(net.stdout).toMatch(/^Mode: DECOMMISSIONED\nNot sending any streams\.\n/);
    const after = await exec('cassandra-3', ['nodetool', 'decommission', '--force']);
    expect(after.exitCode).toBe(1);
    expect(after.stdout).toContain('nodetool: Unsupported operation: local node is not a member of the token ring yet');

    expect(cass.counters().decommissionIssued[`${NS}/cassandra-3`]).toBe(3);
    expect(cass.counters().decommissionStarted[`${NS}/cassandra-3`]).toBe(1);
    expect(cass.counters().decommissionRefused[`${NS}/cassandra-3`]).toBe(2);
  });

  it('scale-down after the member left: its pod goes, its claim stays, the ring is unaffected', async () => {
    scale(3);
    await until('cassandra-3 pod gone', () => !podsOf().includes('cassandra-3'));
    expect(kube.store.get('persistentvolumeclaims', NS, 'data-cassandra-3')?.status?.phase).toBe('Bound');
    const st = await exec('cassandra-0', ['nodetool', 'status']);
    expect(st.stdout.split('\n').filter((l) => /^[UD][NLJ] /.test(l))).toHaveLength(3);
    expect(st.stdout).not.toMatch(/^DN/m);
  });

  it('RF guard: with 3 members left, decommission without --force is refused (system_auth RF 3)', async () => {
    const r = await exec('cassandra-2', ['nodetool', 'decommission']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('nodetool: Unsupported operation: Not enough live nodes to maintain replication factor in keyspace system_auth (RF = 3, N = 3). Perform a forceful decommission to ignore.');
    expect(cass.member(NS, 'cassandra-2')!.mode).toBe('NORMAL');
  });

  it('the exec connection dropping mid-decommission does not stop it', async () => {
    cass.faults.decommissionStreamMs = 800;
    const out = sink();
    const conn = (await new k8s.Exec(kc).exec(NS, 'cassandra-2', 'cassandra', ['nodetool', 'decommission', '--force'], out.w, out.w, null, false)) as unknown as { close(): void; terminate(): void };
    await until('LEAVING', () => cass.member(NS, 'cassandra-2')?.mode === 'LEAVING');
    conn.terminate(); // the client crashes
    await until('DECOMMISSIONED', () => cass.member(NS, 'cassandra-2')?.mode === 'DECOMMISSIONED', 5000);
    expect(cass.counters().decommissionStarted[`${NS}/cassandra-2`]).toBe(1);
  });

  it('stallDecommission freezes streaming until lifted; a restarted pod keeps its identity', async () => {
    scale(4);
    await until('cassandra-3 back', () => kube.store.get('pods', NS, 'cassandra-3')?.status?.phase === 'Running' && cass.member(NS, 'cassandra-3'));
    // decommissioned members come back on their old volume and stay out of the ring
    expect(cass.member(NS, 'cassandra-3')!.mode).toBe('DECOMMISSIONED');

    // a fresh member: delete ordinal 3's claim and pod → new host id, JOINING → NORMAL
    const old = cass.member(NS, 'cassandra-3')!.hostId;
    kube.api.delete(rt('persistentvolumeclaims'), NS, 'data-cassandra-3');
    kube.api.delete(rt('pods'), NS, 'cassandra-3');
    const fresh = await until('a new member on ordinal 3', () => {
      const m = cass.member(NS, 'cassandra-3');
      return m && m.hostId !== old ? m : undefined;
    });
    expect(['JOINING', 'NORMAL']).toContain(fresh.mode);
    await until('NORMAL', () => cass.member(NS, 'cassandra-3')?.mode === 'NORMAL');

    cass.faults.stallDecommission = true;
    cass.faults.decommissionStreamMs = 300;
    // 3 normal members, system_auth RF 3: only a forceful decommission may start
    void exec('cassandra-3', ['nodetool', 'decommission', '-f']);
    await until('LEAVING', () => cass.member(NS, 'cassandra-3')?.mode === 'LEAVING');
    await new Promise((r) => setTimeout(r, 500));
    const stalled = cass.member(NS, 'cassandra-3')!;
    expect(stalled.mode).toBe('LEAVING');
    expect(stalled.stream!.sentBytes).toBe(0);

    // the pod restarts while LEAVING: same host id, the stream goes on
    kube.api.delete(rt('pods'), NS, 'cassandra-3');
    await until('pod back', () => cass.member(NS, 'cassandra-3')?.state === 'Up');
    expect(cass.member(NS, 'cassandra-3')!.hostId).toBe(fresh.hostId);
    cass.faults.stallDecommission = false;
    await until('DECOMMISSIONED', () => cass.member(NS, 'cassandra-3')?.mode === 'DECOMMISSIONED');
  });

  it('kubectl exec -- nodetool status (WebSocket), exit codes passed through', async () => {
    const r = await kubectl('exec', '-n', NS, 'cassandra-0', '--', 'nodetool', 'status');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Datacenter: dc1\n/);
    expect(r.stdout).toMatch(/^UN {2}10\.244\./m);
    const bad = await kubectl('exec', '-n', NS, 'cassandra-0', '--', 'nodetool', 'decommission', 'extra');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('command terminated with exit code 1');
    const missing = await kubectl('exec', '-n', NS, 'cassandra-0', '--', 'frobnicate');
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('frobnicate: command not found');
    const cql = await kubectl('exec', '-n', NS, 'cassandra-0', '-c', 'cassandra', '--', 'cqlsh', '-e', 'SELECT keyspace_name FROM system_schema.keyspaces');
    expect(cql.stdout).toContain('(7 rows)');
  });

  it('older subprotocols: v4.channel.k8s.io gets a Status, channel.k8s.io a plain error text', async () => {
    const raw = (protocol: string, cmd: string[]) =>
      new Promise<{ protocol: string; frames: Buffer[] }>((resolve, reject) => {
        const q = new URLSearchParams([...cmd.map((c): [string, string] => ['command', c]), ['stdout', '1'], ['stderr', '1']]);
        const ws = new WebSocket(`${kube.urls()!.http.replace('http', 'ws')}/api/v1/namespaces/${NS}/pods/cassandra-1/exec?${q}`, [protocol], { headers: { Authorization: 'Bearer cassandra-token' } });
        const frames: Buffer[] = [];
        ws.on('message', (d: Buffer) => frames.push(d));
        ws.on('close', () => resolve({ protocol: ws.protocol, frames }));
        ws.on('error', reject);
      });
    const v4 = await raw('v4.channel.k8s.io', ['nodetool', 'version']);
    expect(v4.protocol).toBe('v4.channel.k8s.io');
    expect(v4.frames.map((f) => f[0])).toEqual([1, 3]);
    expect(v4.frames[0]!.subarray(1).toString()).toBe('ReleaseVersion: 4.1.5\n');
    expect(JSON.parse(v4.frames[1]!.subarray(1).toString())).toMatchObject({ status: 'Success' });
    const v1 = await raw('channel.k8s.io', ['sh', '-c', 'exit 3']);
    expect(v1.protocol).toBe('channel.k8s.io');
    expect(v1.frames.map((f) => f[0])).toEqual([3]);
    expect(v1.frames[0]!.subarray(1).toString()).toMatch(/exit code 3$/);
    const v4fail = await raw('v4.channel.k8s.io', ['sh', '-c', 'exit 3']);
    expect(JSON.parse(v4fail.frames.at(-1)!.subarray(1).toString())).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    // wrong token: refused before any upgrade
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${kube.urls()!.http.replace('http', 'ws')}/api/v1/namespaces/${NS}/pods/cassandra-1/exec?command=true`, ['v4.channel.k8s.io'], { headers: { Authorization: 'Bearer wrong' } });
        ws.on('open', resolve);
        ws.on('error', reject);
      }),
    ).rejects.toThrow(/401/);
  });

  it('exec into a pod that is not Running is refused with a Status', async () => {
    kube.cluster.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending', namespace: NS }, spec: { containers: [{ name: 'c', image: 'x' }], nodeSelector: { nowhere: 'true' } } });
    await expect(new k8s.Exec(kc).exec(NS, 'pending', 'c', ['true'], null, null, null, false)).rejects.toBeTruthy();
    await expect(kube.exec.run(NS, 'pending', ['true'])).rejects.toThrow(/does not have a host assigned/);
    await expect(kube.exec.run(NS, 'nope', ['true'])).rejects.toThrow(/pods "nope" not found/);
  });
});
