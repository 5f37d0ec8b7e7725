// OCI API-key credentials and request-signature verification, as the real
// service does it (draft-cavage HTTP signatures, rsa-sha256, keyId
// "<tenancy>/<user>/<fingerprint>"). See oci-common/lib/signer.js for the client side.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';

export interface OciCredentials {
  tenancy: string;
  user: string;
  fingerprint: string;
  /** "<tenancy>/<user>/<fingerprint>" */
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** MD5 of the DER (SubjectPublicKeyInfo) public key, colon-separated hex — as `oci setup keys` prints it. */
export function fingerprintOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('md5').update(der).digest('hex').match(/../g)!.join(':');
}

/** A fresh RSA 2048 key pair with a random tenancy and user OCID. */
export function generateOciCredentials(opts: { tenancy?: string; user?: string } = {}): OciCredentials {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const tenancy = opts.tenancy ?? `ocid1.tenancy.oc1..sim${randomBytes(12).toString('hex')}`;
  const user = opts.user ?? `ocid1.user.oc1..sim${randomBytes(12).toString('hex')}`;
  const fingerprint = fingerprintOf(publicKey);
  return { tenancy, user, fingerprint, keyId: `${tenancy}/${user}/${fingerprint}`, privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * Write an OCI CLI/SDK config file (profile DEFAULT) and the PEM key beside it, both mode 0600.
 * key_file is written as an absolute path (the SDK resolves it against the process cwd, not the config file).
 */
export async function writeOciConfig(dir: string, creds: OciCredentials, region: string): Promise<{ configPath: string; keyPath: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = path.resolve(dir, 'key.pem');
  const configPath = path.resolve(dir, 'config');
  await writeFile(keyPath, creds.privateKeyPem, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  const text = [
    '# Written by the itinerant simulated fleet; regenerated at each start.',
    '[DEFAULT]',
    `user=${creds.user}`,
    `fingerprint=${creds.fingerprint}`,
    `tenancy=${creds.tenancy}`,
    `region=${region}`,
    `key_file=${keyPath}`,
    '',
  ].join('\n');
  await writeFile(configPath, text, { mode: 0o600 });
  await chmod(configPath, 0o600);
  return { configPath, keyPath };
}

export class AuthError extends Error {}

interface SignatureParams {
  keyId: string;
  algorithm: string;
  headers: string[];
  signature: string;
  version?: string;
}

export function parseSignatureHeader(value: string | undefined): SignatureParams {
  if (!value) throw new AuthError('missing Authorization header');
  const m = /^Signature\s+(.*)$/is.exec(value.trim());
  if (!m) throw new AuthError('Authorization is not a Signature');
  const params: Record<string, string> = {};
  const re = /\s*([a-zA-Z]+)="([^"]*)"\s*(,|$)/gy;
  const rest = m[1]!;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = re.exec(rest)) !== null) {
    params[match[1]!] = match[2]!;
    consumed = re.lastIndex;
    if (re.lastIndex >= rest.length) break;
  }
  if (consumed < rest.trim().length) throw new AuthError('malformed Signature parameters');
  const { keyId, algorithm, headers, signature, version } = params;
  if (!keyId || !signature) throw new AuthError('Signature lacks keyId or signature');
  if (version !== undefined && version !== '1') throw new AuthError(`unsupported signature version ${version}`);
  if ((algorithm ?? '').toLowerCase() !== 'rsa-sha256') throw new AuthError(`unsupported algorithm ${algorithm ?? '(none)'}`);
  return { keyId, algorithm: 'rsa-sha256', headers: (headers ?? 'date').toLowerCase().split(/\s+/).filter(Boolean), signature, version };
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface KnownKey {
  keyId: string;
  publicKey: KeyObject;
}

/** Checks a request against the known keys; throws AuthError with the reason when it is not acceptable. */
export function verifyRequest(req: IncomingMessage, body: Buffer, keys: KnownKey[], now = Date.now()): { keyId: string } {
  const p = parseSignatureHeader(req.headers.authorization);
  const key = keys.find((k) => k.keyId === p.keyId);
  if (!key) throw new AuthError(`unknown keyId ${p.keyId}`);
  const method = (req.method ?? 'GET').toUpperCase();
  const required = ['(request-target)', 'host'];
  if (BODY_METHODS.has(method)) required.push('content-type', 'content-length', 'x-content-sha256');
  for (const h of required) if (!p.headers.includes(h)) throw new AuthError(`signature does not cover required header ${h}`);
  const dateHeader = p.headers.includes('x-date') ? 'x-date' : p.headers.includes('date') ? 'date' : undefined;
  if (!dateHeader) throw new AuthError('signature does not cover date or x-date');

  const lines = p.headers.map((h) => {
    if (h === '(request-target)') return `(request-target): ${method.toLowerCase()} ${req.url ?? '/'}`;
    const v = req.headers[h];
    const value = Array.isArray(v) ? v.join(', ') : v;
    if (value === undefined || value === '') throw new AuthError(`signed header ${h} is missing from the request`);
    return `${h}: ${value}`;
  });
  const ok = cryptoVerify('sha256', Buffer.from(lines.join('\n'), 'utf8'), key.publicKey, Buffer.from(p.signature, 'base64'));
  if (!ok) throw new AuthError('signature does not verify');

  const dateValue = req.headers[dateHeader];
  const t = Date.parse(Array.isArray(dateValue) ? (dateValue[0] ?? '') : (dateValue ?? ''));
  if (Number.isNaN(t)) throw new AuthError(`unparseable ${dateHeader}`);
  if (Math.abs(now - t) > MAX_CLOCK_SKEW_MS) throw new AuthError(`${dateHeader} is more than 5 minutes from the server clock`);

  if (BODY_METHODS.has(method)) {
    const sha = createHash('sha256').update(body).digest('base64');
    if (req.headers['x-content-sha256'] !== sha) throw new AuthError('x-content-sha256 does not match the body');
    if (Number(req.headers['content-length']) !== body.length) throw new AuthError('content-length does not match the body');
  }
  return { keyId: p.keyId };
}

/**
 * Sign a request the way oci-common does (for tests and ad-hoc tools that use plain fetch).
 * Returns the headers to send (including authorization).
 */
export function signRequest(opts: {
  method: string;
  url: string;
  body?: string;
  keyId: string;
  privateKeyPem: string;
  date?: Date;
  headers?: Record<string, string>;
}): Record<string, string> {
  const u = new URL(opts.url);
  const method = opts.method.toUpperCase();
  const headers: Record<string, string> = { ...opts.headers, host: u.host, 'x-date': (opts.date ?? new Date()).toUTCString() };
  const names = ['x-date', '(request-target)', 'host'];
  if (BODY_METHODS.has(method)) {
    const body = opts.body ?? '';
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
    headers['x-content-sha256'] = createHash('sha256').update(body).digest('base64');
    names.push('content-type', 'content-length', 'x-content-sha256');
  }
  const str = names
    .map((h) => (h === '(request-target)' ? `(request-target): ${method.toLowerCase()} ${u.pathname}${u.search}` : `${h}: ${headers[h]}`))
    .join('\n');
  const signature = cryptoSign('sha256', Buffer.from(str), opts.privateKeyPem).toString('base64');
  headers.authorization = `Signature version="1",keyId="${opts.keyId}",algorithm="rsa-sha256",headers="${names.join(' ')}",signature="${signature}"`;
  return headers;
}
