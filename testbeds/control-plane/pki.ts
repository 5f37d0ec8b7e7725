/**
 * A throwaway PKI for a local control plane, made with the openssl CLI: one CA, the API server's
 * serving certificate, a client certificate per component identity, and the service-account
 * signing key pair. ECDSA P-256 throughout (fast to generate, accepted by every component).
 * makeCa and issue also make the certificates of the Temporal TLS tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlaneUnavailable } from './build.js';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: CertFiles;
  apiserver: CertFiles;
  /** KWOK's kubelet server (pods/exec): the API server verifies it with --kubelet-certificate-authority. */
  kubelet: CertFiles;
  /** client certificates by identity name (admin, kube-controller-manager, kube-scheduler, kwok, apiserver-etcd-client, etcd) */
  clients: Record<string, CertFiles>;
  saKey: string;
  saPub: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new ControlPlaneUnavailable(`the control plane needs the openssl CLI to make its certificates: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA, `ca.crt` and `ca.key` in `dir` (the CA `issue` signs with). */
export function makeCa(dir: string, subject: string): CertFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl(
    ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-sha256', '-subj', subject,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
    dir,
  );
  return { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
}

/** Issue a certificate signed by the CA in `dir` (makeCa). `subject` like `/CN=admin/O=system:masters`. */
export function issue(dir: string, name: string, subject: string, ext: string): CertFiles {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', subject], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-sha256', '-extfile', extFile, '-out', cert], dir);
  return { cert, key };
}

export const CLIENT_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
export const SERVER_EXT = (sans: string) =>
  `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans}\n`;

/** Client identities: name → subject (CN = user, O = groups). */
export const IDENTITIES: Record<string, string> = {
  // the test bed's administrator (what `kubectl` uses; also seeds the fleet and plays the kubelets' registration)
  admin: '/CN=itinerant-admin/O=system:masters',
  'kube-controller-manager': '/CN=system:kube-controller-manager',
  'kube-scheduler': '/CN=system:kube-scheduler',
  // kwok plays every kubelet; bound to its own ClusterRole (see control-plane.ts), not system:masters
  kwok: '/CN=itinerant:kwok',
  'apiserver-etcd-client': '/CN=kube-apiserver-etcd-client',
  // what the API server presents to kubelets (pods/exec, logs)
  'apiserver-kubelet-client': '/CN=kube-apiserver-kubelet-client',
};

export function makePki(dir: string): Pki {
  const ca = makeCa(dir, '/CN=itinerant-test-bed-ca');
  const sans = 'IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1';
  const apiserver = issue(dir, 'apiserver', '/CN=kube-apiserver', SERVER_EXT(sans));
  const etcd = issue(dir, 'etcd', '/CN=etcd', SERVER_EXT('IP:127.0.0.1,DNS:localhost'));
  const kubelet = issue(dir, 'kubelet', '/CN=kwok-kubelet', SERVER_EXT('IP:127.0.0.1,DNS:localhost'));
  const clients: Record<string, CertFiles> = { etcd };
  for (const [name, subject] of Object.entries(IDENTITIES)) clients[name] = issue(dir, name, subject, CLIENT_EXT);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'sa.key'], dir);
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return { dir, ca, apiserver, kubelet, clients, saKey: join(dir, 'sa.key'), saPub: join(dir, 'sa.pub') };
}

const b64 = (file: string) => readFileSync(file).toString('base64');

/** A kubeconfig (YAML) for `server`, trusting the CA, with a client certificate or a bearer token. */
export function kubeconfigYaml(opts: { server: string; caFile: string; user: string; cluster: string; client: CertFiles | { token: string } }): string {
  const userBody =
    'token' in opts.client
      ? `    token: ${opts.client.token}\n`
      : `    client-certificate-data: ${b64(opts.client.cert)}\n    client-key-data: ${b64(opts.client.key)}\n`;
  return (
    `apiVersion: v1\nkind: Config\nclusters:\n- name: ${opts.cluster}\n  cluster:\n    server: ${opts.server}\n    certificate-authority-data: ${b64(opts.caFile)}\n` +
    `users:\n- name: ${opts.user}\n  user:\n${userBody}` +
    `contexts:\n- name: ${opts.cluster}\n  context:\n    cluster: ${opts.cluster}\n    user: ${opts.user}\ncurrent-context: ${opts.cluster}\n`
  );
}
