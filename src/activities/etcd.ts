// Reading etcd directly (its v3 JSON gateway, mutual TLS): which Secrets are stored under which
// encryption key. The API server writes a Secret as `k8s:enc:<provider>:v1:<key name>:<ciphertext>`.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { encryptionKeyName } from '../core/keyring.js';
import type { EtcdConfig } from '../core/config.js';

const PREFIX = '/registry/secrets/';
const PAGE = 200;
const TIMEOUT_MS = 15_000;

interface RangeResponse {
  kvs?: { key: string; value?: string }[];
  more?: boolean;
  count?: string;
}

function post(etcd: EtcdConfig, path: string, body: unknown): Promise<unknown> {
  const url = new URL(path, etcd.endpoints[0]);
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const tls = url.protocol === 'https:';
    const request = tls ? httpsRequest : httpRequest;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        ...(tls ? { ca: readFileSync(etcd.caFile!), cert: readFileSync(etcd.certFile!), key: readFileSync(etcd.keyFile!) } : {}),
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          // Never quote the body in an error: it holds Secrets (encrypted, but still).
          if (res.statusCode !== 200) return reject(new Error(`etcd ${url.host} answered ${res.statusCode} to ${path}`));
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`etcd ${url.host} answered ${path} with something that is not JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`etcd ${url.host}: no answer to ${path} in ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Count the Secrets etcd holds, and those not stored under this secret-encryption key (with a few of their names). */
export async function secretsStoredUnder(etcd: EtcdConfig, keyId: string): Promise<{ total: number; notUnder: number; examples: string[] }> {
  const want = new RegExp(`^k8s:enc:[a-z]+:v1:${encryptionKeyName(keyId)}:`);
  let from = PREFIX;
  let total = 0;
  let notUnder = 0;
  const examples: string[] = [];
  for (;;) {
    const r = (await post(etcd, '/v3/kv/range', { key: b64(from), range_end: b64('/registry/secrets0'), limit: PAGE })) as RangeResponse;
    for (const kv of r.kvs ?? []) {
      total++;
      const value = Buffer.from(kv.value ?? '', 'base64').subarray(0, 200).toString('latin1');
      if (!want.test(value)) {
        notUnder++;
        if (examples.length < 5) examples.push(Buffer.from(kv.key, 'base64').toString('utf8').slice(PREFIX.length));
      }
    }
    const last = r.kvs?.at(-1);
    if (!r.more || !last) return { total, notUnder, examples };
    from = `${Buffer.from(last.key, 'base64').toString('utf8')}\0`;
  }
}
