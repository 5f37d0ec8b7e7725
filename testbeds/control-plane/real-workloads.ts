// The stateful-workload side of the control-plane test bed. The real controllers run StatefulSets,
// their pods and claims; this module adds what a real cluster's other parts would:
// - a mirror of StatefulSets, pods and PersistentVolumeClaims (list + watch), in the sim's ObjectStore
//   shape, so that the Cassandra model reads the real objects exactly as it reads the in-memory sim's;
// - the block-volume provisioner: a PersistentVolume for each claim of StorageClass `oci-bv`;
// - the processes inside pods: KWOK answers pods/exec by running a local command configured per pod by
//   an `Exec` object; every StatefulSet pod gets one whose commands (`nodetool`, `cqlsh` on KWOK's PATH)
//   forward to this module's exec endpoint, where the sim's exec handlers (the Cassandra model) run them.
//   The client's call is the real one: WebSocket to kube-apiserver, kube-apiserver to the kubelet (KWOK).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { ControlPlane } from './control-plane.js';
import { ExecRegistry, type ExecHandler, type ExecMatch } from '../sim/kube/exec.js';
import type { KObject } from '../sim/kube/resources.js';
import { ApiError } from '../sim/kube/status.js';
import { ObjectStore } from '../sim/kube/store.js';
import { startInformer, type Informer, type WatchEventType } from './real-watch.js';

export const BLOCK_VOLUME_CLASS = 'oci-bv';
const BLOCK_VOLUME_DRIVER = 'blockvolume.csi.oraclecloud.com';
/** The commands the exec shim stands in for inside a pod. */
export const SHIMMED_COMMANDS = ['nodetool', 'cqlsh'] as const;

const MIRRORED: Record<string, string> = {
  statefulsets: '/apis/apps/v1/statefulsets',
  pods: '/api/v1/pods',
  persistentvolumeclaims: '/api/v1/persistentvolumeclaims',
};

/** The block-volume StorageClass the seeded StatefulSets claim from (its PVs are made by RealWorkloads). */
export const blockVolumeStorageClass = () => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: BLOCK_VOLUME_CLASS },
  provisioner: BLOCK_VOLUME_DRIVER,
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'Immediate',
});

/**
 * Write the exec shim (one script, one name per shimmed command) into `dir`, for KWOK's PATH. It sends
 * its argv to the endpoint named in its environment (set by the pod's Exec object) and replays the answer.
 */
export async function writeExecShims(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const script = `#!${process.execPath}
// Written by the itinerant test bed: this pod's command runs in the simulated service (testbeds/control-plane/real-workloads.ts).
'use strict';
const http = require('node:http');
const path = require('node:path');
const argv = [path.basename(process.argv[1]), ...process.argv.slice(2)];
const fail = (m) => { process.stderr.write(m + '\\n'); process.exitCode = 126; };
const url = process.env.ITINERANT_EXEC_URL;
if (!url || !process.env.ITINERANT_EXEC_POD) { fail(argv[0] + ': no ITINERANT_EXEC_URL / ITINERANT_EXEC_POD: not run through the test bed\\'s Exec object'); } else {
  const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + process.env.ITINERANT_EXEC_TOKEN } }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (res.statusCode !== 200) return fail(text);
      const r = JSON.parse(text);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.exitCode;
    });
  });
  req.on('error', (e) => fail(argv[0] + ': ' + e.message));
  req.end(JSON.stringify({ pod: process.env.ITINERANT_EXEC_POD, argv }));
}
`;
  for (const name of SHIMMED_COMMANDS) {
    const file = path.join(dir, name);
    await writeFile(file, script);
    await chmod(file, 0o755);
  }
  return dir;
}

export class RealWorkloads {
  /** StatefulSets, pods and PersistentVolumeClaims as the API server has them (updated by watches). */
  readonly store = new ObjectStore(2_000);
  readonly exec: ExecRegistry;
  readonly errors: string[] = [];
  private readonly informers: Informer[] = [];
  private readonly execObjects = new Set<string>();
  private readonly provisioned = new Set<string>();
  private readonly token = randomBytes(24).toString('hex');
  private server: Server | undefined;
  private endpoint = '';

  constructor(
    private readonly cp: Pick<ControlPlane, 'request' | 'url' | 'adminTls'>,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.exec = new ExecRegistry(this.store);
  }

  registerExecHandler(match: ExecMatch, handler: ExecHandler): () => void {
    return this.exec.register(match, handler);
  }

  async start(): Promise<void> {
    this.endpoint = await this.listen();
    for (const [resource, collection] of Object.entries(MIRRORED)) {
      this.informers.push(startInformer<KObject>(this.cp, collection, (type, o) => this.onEvent(resource, type, o)));
    }
    await Promise.all(this.informers.map((i) => i.started));
  }

  close(): void {
    for (const i of this.informers) i.close();
    this.server?.closeAllConnections();
    this.server?.close();
  }

  private onEvent(resource: string, type: WatchEventType, o: KObject): void {
    const { namespace, name } = o.metadata;
    if (type === 'DELETED') this.store.remove(resource, namespace, name);
    else if (this.store.has(resource, namespace, name)) this.store.update(resource, o);
    else this.store.create(resource, o);
    if (type === 'DELETED') return;
    if (resource === 'pods') this.ensureExecObject(o);
    if (resource === 'persistentvolumeclaims') this.provision(o);
  }

  /** KWOK answers pods/exec for a StatefulSet pod by running the shim, which calls back here. */
  private ensureExecObject(pod: KObject): void {
    if (!pod.metadata.ownerReferences?.some((r) => r.controller && r.kind === 'StatefulSet')) return;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.execObjects.has(key)) return;
    this.execObjects.add(key);
    const env = { ITINERANT_EXEC_URL: this.endpoint, ITINERANT_EXEC_TOKEN: this.token, ITINERANT_EXEC_POD: key };
    const exec = {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Exec',
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
      spec: { execs: [{ local: { envs: Object.entries(env).map(([name, value]) => ({ name, value })) } }] },
    };
    this.must(`Exec for pod ${key}`, this.cp.request('POST', `/apis/kwok.x-k8s.io/v1alpha1/namespaces/${pod.metadata.namespace}/execs`, exec), () => this.execObjects.delete(key));
  }

  /** The CSI provisioner's part: a volume for each pending claim of the block-volume class, bound to it. */
  private provision(claim: KObject): void {
    const spec = claim.spec as { storageClassName?: string; volumeName?: string; accessModes?: string[]; resources?: { requests?: { storage?: string } } };
    if (spec.storageClassName !== BLOCK_VOLUME_CLASS || spec.volumeName || claim.status?.phase !== 'Pending') return;
    const uid = claim.metadata.uid;
    if (!uid || this.provisioned.has(uid)) return;
    this.provisioned.add(uid);
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pvc-${uid}`, annotations: { 'pv.kubernetes.io/provisioned-by': BLOCK_VOLUME_DRIVER } },
      spec: {
        capacity: { storage: spec.resources?.requests?.storage ?? '50Gi' },
        accessModes: spec.accessModes ?? ['ReadWriteOnce'],
        storageClassName: BLOCK_VOLUME_CLASS,
        persistentVolumeReclaimPolicy: 'Delete',
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid },
        csi: { driver: BLOCK_VOLUME_DRIVER, volumeHandle: `ocid1.volume.oc1.sim.${uid}`, fsType: 'ext4' },
      },
    };
    this.must(`volume for claim ${claim.metadata.namespace}/${claim.metadata.name}`, this.cp.request('POST', '/api/v1/persistentvolumes', pv), () => this.provisioned.delete(uid));
  }

  private must(what: string, p: Promise<{ status: number; body: any }>, undo: () => void): void {
    p.then(
      (r) => {
        if (r.status < 300 || r.status === 409) return;
        undo();
        this.fail(`${what}: ${r.status} ${r.body?.message ?? ''}`);
      },
      (e: unknown) => {
        undo();
        this.fail(`${what}: ${(e as Error).message}`);
      },
    );
  }

  private fail(line: string): void {
    this.errors.push(line);
    this.log(`real workloads: ${line}`);
  }

  /** The endpoint the exec shims call (127.0.0.1, bearer token): runs the command through the exec handlers. */
  private listen(): Promise<string> {
    const server = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain' });
        res.end(status === 200 ? JSON.stringify(body) : String(body));
      };
      if (req.method !== 'POST' || req.url !== '/exec') return reply(404, 'not found');
      if (req.headers.authorization !== `Bearer ${this.token}`) return reply(401, 'unauthorized');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let call: { pod: string; argv: string[] };
        try {
          call = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return reply(400, 'bad request');
        }
        const [namespace, pod] = call.pod.split('/') as [string, string];
        // the command's caller went away (exec stream closed, KWOK killed the shim): like a killed nodetool,
        // the service goes on with what it was asked
        const abort = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) abort.abort(new Error('exec connection closed'));
        });
        this.exec.run(namespace, pod, call.argv, { signal: abort.signal }).then(
          (r) => reply(200, r),
          (e: unknown) => reply(e instanceof ApiError ? e.status.code : 500, e instanceof ApiError ? e.status.message : (e as Error).message),
        );
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        resolve(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/exec`);
      });
    });
  }
}
