import type { ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsStoredUnder } from '../../src/activities/etcd.js';
import { issueClientCertificate, parseMaterial } from '../../src/activities/key-material.js';
import { TASK_QUEUE } from '../../src/core/ids.js';
import { KEY_PURPOSES, keySecretName, type KeyPurpose } from '../../src/core/keyring.js';
import { rotateKeysWorkflowId, type RotateKeysResult } from '../../src/core/rotation.js';
import { rotateKeys } from '../../src/workflows/rotate-keys.js';
import { testbedFromEnv } from '../../testbeds/index.js';
import type { ControlPlaneSimHandle } from '../../testbeds/control-plane/real-cluster.js';
import { removeCassandraRing, spawnWorkerProcess, startStack, stopWorkerProcess, type Stack } from '../helpers/stack.js';
import { whileRunning } from '../helpers/wait.js';

// The proof on a real kube-apiserver: two of them on one etcd, behind a front (as a load balancer before a
// control plane), are restarted one at a time with the keyring's files at every phase, and what they
// accept is what a three-slot keyring promises — a credential of the old key works until that key is withdrawn
// (two rotations later: one to retire it, one to withdraw it), and is refused (401) after; every Secret is stored
// under the newest key in etcd and still reads back; and no request of the worker's failed on the way.
let stack: Stack;
let worker: ChildProcess | undefined;
let output = '';

const controlPlane = () => (stack.sim as ControlPlaneSimHandle).controlPlane;

/** POST a SelfSubjectReview (any authenticated user may) with this credential; the HTTP status. */
function whoAmI(auth: { token: string } | { cert: string; key: string }): Promise<number> {
  const url = new URL(stack.sim.kubeUrl);
  const ca = controlPlane().adminTls.ca;
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        method: 'POST',
        ca,
        ...('cert' in auth ? { cert: auth.cert, key: auth.key } : {}),
        headers: { 'content-type': 'application/json', ...('token' in auth ? { authorization: `Bearer ${auth.token}` } : {}) },
        timeout: 15_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function tokenFor(sa: string): Promise<string> {
  const r = await controlPlane().request('POST', `/api/v1/namespaces/default/serviceaccounts/${sa}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 86_400 },
  });
  expect(r.status).toBe(201);
  return r.body.status.token as string;
}

const material = (purpose: KeyPurpose, keyId: string) =>
  parseMaterial(stack.sim.oci.vault.readCurrent(keySecretName(stack.sim.clusterName, purpose, keyId))!, { purpose, keyId });

async function rotateAll(): Promise<RotateKeysResult[]> {
  const handles = await Promise.all(
    KEY_PURPOSES.map((purpose) =>
      stack.client.workflow.start(rotateKeys, { taskQueue: TASK_QUEUE, workflowId: rotateKeysWorkflowId(stack.sim.clusterName, purpose), args: [{ cluster: stack.sim.clusterName, purpose }] }),
    ),
  );
  return (await Promise.all(handles.map((h) => whileRunning(h.result(), worker!)))) as RotateKeysResult[];
}

async function secretsAreUnder(keyId: string) {
  const etcd = stack.fleet.clusters[0]!.etcd!;
  expect(await secretsStoredUnder(etcd, keyId)).toMatchObject({ notUnder: 0 });
  const core = stack.admin.makeApiClient(k8s.CoreV1Api);
  for (let i = 0; i < 4; i++) expect((await core.readNamespacedSecret({ namespace: 'default', name: `app-${i}` })).data?.password).toBe(Buffer.from(`p${i}`).toString('base64'));
}

describe.skipIf(testbedFromEnv() !== 'control-plane')('rotateKeys on the real control plane', () => {
  beforeAll(async () => {
    // two groups of two nodes: every rotation repaves each node, on a real control plane (tens of seconds each)
    stack = await startStack({ apiServerKeyrings: true, fleetShape: { groups: 2, nodesPerGroup: 2 } });
    await removeCassandraRing(stack);
    const core = stack.admin.makeApiClient(k8s.CoreV1Api);
    for (let i = 0; i < 4; i++) await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: `app-${i}` }, stringData: { password: `p${i}` } } });
    worker = spawnWorkerProcess(stack, stack.server, { captureOutput: true });
    worker.stdout?.on('data', (d) => (output += d));
    worker.stderr?.on('data', (d) => (output += d));
  }, 300_000);
  afterAll(async () => {
    await stopWorkerProcess(worker, 'SIGTERM');
    await stack?.stop();
  });

  it('a token and a client certificate from before work through one rotation, are refused after the next; Secrets end under the newest key', async () => {
    const now = new Date();
    const ca0 = material('client-ca', 'initial-ca');
    if (ca0.purpose !== 'client-ca') throw new Error('not a CA');
    const cert0 = await issueClientCertificate(ca0, { commonName: 'rotation-probe' }, { now, validityMs: 86_400_000 });
    const token0 = await tokenFor('default');
    expect([await whoAmI({ token: token0 }), await whoAmI({ cert: cert0.certificatePem, key: cert0.privateKeyPem })]).toEqual([201, 201]);

    const first = await rotateAll();
    const [ca1, sa1, enc1] = first.map((r) => r.keyring);
    expect([ca1!.retiring?.keyId, sa1!.retiring?.keyId, enc1!.retiring?.keyId]).toEqual(['initial-ca', 'initial-sa', 'initial-enc']);
    const token1 = await tokenFor('default'); // signed by the key promoted in the first rotation
    expect([await whoAmI({ token: token0 }), await whoAmI({ token: token1 }), await whoAmI({ cert: cert0.certificatePem, key: cert0.privateKeyPem })]).toEqual([201, 201, 201]);
    await secretsAreUnder(enc1!.active.keyId);

    const second = await rotateAll();
    expect(second.map((r) => r.withdrawn)).toEqual([['initial-ca'], ['initial-sa'], ['initial-enc']]);
    expect([await whoAmI({ token: token0 }), await whoAmI({ cert: cert0.certificatePem, key: cert0.privateKeyPem })]).toEqual([401, 401]);
    expect(await whoAmI({ token: token1 })).toBe(201);
    await secretsAreUnder(second[2]!.keyring.active.keyId);
    // the worker's own identity was never refused: its token file was refreshed after each promotion
    expect(output).not.toMatch(/\b401\b|Unauthorized/);
    // nor did any of its requests fail while the API servers restarted: both served it, and the front saw none fail
    const seen = controlPlane().front!.stats('worker');
    const others = controlPlane().front!.stats('cluster');
    const stops = controlPlane().apiServerStops();
    const resent = output.match(/kube request re-sent/g)?.length ?? 0;
    console.log(`api front: worker ${seen.connections} connections ${JSON.stringify(seen.perBackend)}, ${resent} re-sent; others ${others.connections}, ${others.failures.length} cut off: ${others.failures.slice(0, 5).join('; ')}`);
    console.log(`api servers stopped ${stops.length} times, exiting ${Math.min(...stops.map((s) => s.exitMs))}-${Math.max(...stops.map((s) => s.exitMs))} ms after SIGTERM`);
    // every API server ended on its own (graceful termination), none was killed with requests open
    expect(stops.length).toBeGreaterThan(0);
    expect(stops.filter((s) => s.killed)).toEqual([]);
    // A keep-alive connection an API server closed as it shut down, with a request of the worker's on it unanswered
    // (the request crossed the close): the worker sent that request again on a new connection, so nothing failed.
    // Anything else the front saw fail on the worker's connections, or more of those than re-sends, is a failure.
    expect(seen.failures.filter((f) => !/ with \d+ bytes of the client's unanswered$/.test(f))).toEqual([]);
    expect(seen.failures.length).toBeLessThanOrEqual(resent);
    expect(Object.keys(seen.perBackend).sort()).toEqual(['kube-apiserver-0', 'kube-apiserver-1']);
    // Through the front all along: each API server restart ends the worker's kept-alive connections to it (86-100 here).
    expect(seen.connections).toBeGreaterThan(2 * stops.length);
    expect(output).not.toMatch(/ECONNREFUSED|ECONNRESET|socket hang up|Premature close/); // a response cut off part-way, which the front cannot see
    // nor did any other client (controllers, KWOK, the fleet) find no API server to connect to
    expect(others.failures.filter((f) => /no ready backend|connect:/.test(f))).toEqual([]);
  }, 900_000);
});
