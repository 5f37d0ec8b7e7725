// What the keyrings the control-plane member runs do to the simulated cluster: a node whose kubelet
// certificate was signed by a key the member no longer trusts cannot authenticate (NotReady), and every
// Secret write is stored under the secret-encryption key the member runs first, which an etcd view
// (etcd's v3 JSON gateway: POST /v3/kv/range) shows as the API server's `k8s:enc:aescbc:v1:<key>:` prefix.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { encryptionKeyName, keyringAnnotation, parseHeldKeyring, trustSet } from '../../../src/core/keyring.js';
import type { KubeSim } from '../kube/index.js';
import type { ControlPlaneMember } from './member.js';

export const UNTRUSTED_CERTIFICATE_REASON = 'KubeletCertificateUntrusted';

export interface KeyringEffects {
  /** http://127.0.0.1:<port>: the etcd view. */
  etcdUrl: string;
  counters: { untrustedNodes: number };
  /** Nodes that ever went NotReady because nobody trusted their certificate. */
  untrusted: Set<string>;
  close(): Promise<void>;
}

export async function startKeyringEffects(kube: KubeSim, member: ControlPlaneMember, opts: { pollMs?: number } = {}): Promise<KeyringEffects> {
  const storedUnder = new Map<string, string>();
  const untrusted = new Set<string>();
  const counters = { untrustedNodes: 0 };
  const secretKey = (ns: string | undefined, name: string) => `/registry/secrets/${ns}/${name}`;
  const currentKeyName = () => {
    const ring = member.running('secret-encryption');
    return ring ? encryptionKeyName(ring.active.keyId) : 'identity';
  };
  for (const s of kube.store.list('secrets')) storedUnder.set(secretKey(s.metadata.namespace, s.metadata.name), currentKeyName());
  const unsubscribe = kube.store.subscribe((e) => {
    if (e.resource !== 'secrets') return;
    const k = secretKey(e.object.metadata.namespace, e.object.metadata.name);
    if (e.type === 'DELETED') storedUnder.delete(k);
    else storedUnder.set(k, currentKeyName());
  });

  const enforce = () => {
    const ring = member.running('client-ca');
    if (!ring) return;
    const trusted = trustSet(ring);
    for (const n of kube.store.scan('nodes')) {
      const held = parseHeldKeyring(n.metadata.annotations?.[keyringAnnotation('client-ca')]);
      if (!held?.signedBy || trusted.includes(held.signedBy) || untrusted.has(n.metadata.name)) continue;
      untrusted.add(n.metadata.name);
      counters.untrustedNodes++;
      kube.cluster.setNodeReady(n.metadata.name, false, UNTRUSTED_CERTIFICATE_REASON);
    }
  };
  const timer = setInterval(enforce, opts.pollMs ?? 250);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v3/kv/range') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { key?: string; range_end?: string; limit?: number };
      const from = Buffer.from(body.key ?? '', 'base64').toString('utf8');
      const to = body.range_end ? Buffer.from(body.range_end, 'base64').toString('utf8') : undefined;
      const keys = [...storedUnder.keys()].filter((k) => k >= from && (to === undefined || k < to)).sort();
      const limit = body.limit && body.limit > 0 ? body.limit : keys.length;
      const page = keys.slice(0, limit);
      const kvs = page.map((k) => {
        const under = storedUnder.get(k)!;
        const value = under === 'identity' ? Buffer.from('k8s\0{"kind":"Secret"}') : Buffer.concat([Buffer.from(`k8s:enc:aescbc:v1:${under}:`), randomBytes(32)]);
        return { key: Buffer.from(k).toString('base64'), value: value.toString('base64') };
      });
      const payload = JSON.stringify({ kvs, more: keys.length > limit, count: String(keys.length) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const etcdUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    etcdUrl,
    counters,
    untrusted,
    close: async () => {
      clearInterval(timer);
      unsubscribe();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
