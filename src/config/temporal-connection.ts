// How the worker and the CLI reach Temporal, from the environment variables Temporal's own tools read
// (the `temporal` CLI, the SDKs' envconfig): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*.
// Settings are checked here, at startup, before anything connects; messages name the variable and the
// file, never what a file or a key holds. (@temporalio/envconfig 1.24 reads the same names, but silently drops a
// key without a certificate and TEMPORAL_TLS_DISABLE_HOST_VERIFICATION, and its errors name no variable.)
import type { TLSConfig } from '@temporalio/client';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  /** TLS to the frontend; undefined: plaintext. */
  tls?: TLSConfig;
  /** Sent as `authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

/** A setting that cannot work; the message names the variable. */
export class TemporalSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalSettingsError';
  }
}

type Env = Record<string, string | undefined>;

/** A PEM item given as a file (`<NAME>_PATH`) or inline (`<NAME>_DATA`), as the temporal CLI takes them. */
const PEM_SOURCES = {
  clientCert: 'TEMPORAL_TLS_CLIENT_CERT',
  clientKey: 'TEMPORAL_TLS_CLIENT_KEY',
  serverCa: 'TEMPORAL_TLS_SERVER_CA_CERT',
} as const;

/** Every variable temporalConnectionFromEnv reads. */
export const TEMPORAL_CONNECTION_VARIABLES: readonly string[] = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  ...Object.values(PEM_SOURCES).flatMap((base) => [`${base}_PATH`, `${base}_DATA`]),
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
];

/**
 * The connection settings from `env`. `overrides` (command-line flags) win over TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE.
 * An empty variable counts as unset (so that compose can pass through what the host may not define).
 */
export function temporalConnectionFromEnv(env: Env = process.env, overrides: { address?: string | undefined; namespace?: string | undefined } = {}): TemporalConnectionSettings {
  const get = (name: string) => (env[name] ?? '').trim() || undefined;
  const settings: TemporalConnectionSettings = {
    address: overrides.address || get('TEMPORAL_ADDRESS') || DEFAULT_TEMPORAL_ADDRESS,
    namespace: overrides.namespace || get('TEMPORAL_NAMESPACE') || DEFAULT_TEMPORAL_NAMESPACE,
  };

  const apiKey = env.TEMPORAL_API_KEY ?? '';
  if (apiKey !== '') {
    if (/[\s\p{Cc}]/u.test(apiKey)) throw new TemporalSettingsError('TEMPORAL_API_KEY contains whitespace or control characters (a stray newline?)');
    settings.apiKey = apiKey;
  }

  if (flag(env, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION')) {
    throw new TemporalSettingsError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported (the TypeScript SDK always verifies the server): set TEMPORAL_TLS_SERVER_NAME to the name in the server certificate instead',
    );
  }
  const cert = pem(env, PEM_SOURCES.clientCert);
  const key = pem(env, PEM_SOURCES.clientKey);
  const ca = pem(env, PEM_SOURCES.serverCa);
  const serverName = get('TEMPORAL_TLS_SERVER_NAME');
  const tlsSetting = flag(env, 'TEMPORAL_TLS');
  const tlsDetails = [cert, key, ca, serverName ? { name: 'TEMPORAL_TLS_SERVER_NAME' } : undefined].filter((d) => d !== undefined);
  if (tlsSetting === false) {
    if (tlsDetails.length > 0) throw new TemporalSettingsError(`TEMPORAL_TLS is false but ${tlsDetails.map((d) => d.name).join(', ')} is set: remove one or the other`);
    return settings;
  }
  if (tlsSetting === undefined && tlsDetails.length === 0 && settings.apiKey === undefined) return settings;

  // TLS: asked for, implied by a TLS setting, or by an API key (as Temporal's tools do; TEMPORAL_TLS=false sends a key in plaintext).
  if (key && !cert) throw new TemporalSettingsError(`${key.name} is set but no client certificate: set ${PEM_SOURCES.clientCert}_PATH (or _DATA) too`);
  if (cert && !key) throw new TemporalSettingsError(`${cert.name} is set but no client key: set ${PEM_SOURCES.clientKey}_PATH (or _DATA) too`);
  const tls: TLSConfig = {};
  if (serverName) tls.serverNameOverride = serverName;
  if (ca) {
    certificate(ca);
    tls.serverRootCACertificate = ca.bytes;
  }
  if (cert && key) {
    if (!certificate(cert).checkPrivateKey(privateKey(key))) throw new TemporalSettingsError(`${key.name} is not the key of the certificate in ${cert.name}`);
    tls.clientCertPair = { crt: cert.bytes, key: key.bytes };
  }
  settings.tls = tls;
  return settings;
}

/** `host:port` or `[v6]:port` as host and port; undefined for anything else (the SDK judges those). */
export function splitAddress(address: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/** What the settings amount to, for a startup line: never the key, never file contents. */
export function describeTemporalConnection(s: TemporalConnectionSettings): string {
  const security = [
    s.tls ? (s.tls.clientCertPair ? 'mTLS (client certificate)' : 'TLS') : 'plaintext',
    ...(s.tls?.serverRootCACertificate ? ['own CA'] : []),
    ...(s.tls?.serverNameOverride ? [`server name ${s.tls.serverNameOverride}`] : []),
    ...(s.apiKey ? ['API key'] : []),
  ];
  return `${s.address}, namespace ${s.namespace}, ${security.join(', ')}`;
}

/** The options Connection.connect and NativeConnection.connect take. `tls: false` stops the SDK turning TLS on for an API key by itself. */
export function connectionOptions(s: TemporalConnectionSettings): { address: string; tls: TLSConfig | false; apiKey?: string } {
  return { address: s.address, tls: s.tls ?? false, ...(s.apiKey ? { apiKey: s.apiKey } : {}) };
}

interface PemSource {
  /** The variable it came from, e.g. TEMPORAL_TLS_CLIENT_CERT_PATH. */
  name: string;
  /** How to name it in a message: the variable, and the file for _PATH. */
  where: string;
  bytes: Uint8Array;
}

function pem(env: Env, base: string): PemSource | undefined {
  const path = (env[`${base}_PATH`] ?? '').trim();
  const data = env[`${base}_DATA`] ?? '';
  if (path && data.trim()) throw new TemporalSettingsError(`set either ${base}_PATH or ${base}_DATA, not both`);
  if (data.trim()) return { name: `${base}_DATA`, where: `${base}_DATA`, bytes: Buffer.from(data) };
  if (!path) return undefined;
  const name = `${base}_PATH`;
  try {
    return { name, where: `${name} (${path})`, bytes: readFileSync(path) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory, not a file' : `cannot be read (${code ?? 'error'})`;
    throw new TemporalSettingsError(`${name}: ${path}: ${why}`);
  }
}

function certificate(source: PemSource): X509Certificate {
  try {
    return new X509Certificate(source.bytes);
  } catch {
    throw new TemporalSettingsError(`${source.where} does not hold a PEM certificate`);
  }
}

function privateKey(source: PemSource): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(source.bytes), format: 'pem' });
  } catch {
    throw new TemporalSettingsError(`${source.where} does not hold an unencrypted PEM private key`);
  }
}

/** A boolean variable as Temporal's tools read it (1/true, 0/false); anything else is refused rather than guessed. */
function flag(env: Env, name: string): boolean | undefined {
  const v = (env[name] ?? '').trim().toLowerCase();
  if (v === '') return undefined;
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new TemporalSettingsError(`${name} must be true, false, 1 or 0`);
}
