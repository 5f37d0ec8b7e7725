// The Temporal connection settings from the environment: what they become, and what is refused before anything connects.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOptions, describeTemporalConnection, TemporalSettingsError, temporalConnectionFromEnv } from '../../src/config/temporal-connection.js';
import { CLIENT_EXT, issue, makeCa, type CertFiles } from '../../testbeds/control-plane/pki.js';

const SECRET = 'hunter2-not-a-certificate';
let dir: string;
let ca: CertFiles;
let client: CertFiles;
let other: CertFiles;
let notPem: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'itinerant-temporal-settings-'));
  ca = makeCa(join(dir, 'ca'), '/CN=settings-test-ca');
  client = issue(join(dir, 'ca'), 'client', '/CN=worker', CLIENT_EXT);
  other = issue(join(dir, 'ca'), 'other', '/CN=other', CLIENT_EXT);
  notPem = join(dir, 'not.pem');
  writeFileSync(notPem, `${SECRET}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const refused = (env: Record<string, string>) => {
  try {
    temporalConnectionFromEnv(env);
  } catch (e) {
    expect(e).toBeInstanceOf(TemporalSettingsError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
};

describe('temporalConnectionFromEnv', () => {
  it('defaults to plaintext 127.0.0.1:7233, namespace default; flags win over TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE', () => {
    expect(temporalConnectionFromEnv({})).toEqual({ address: '127.0.0.1:7233', namespace: 'default' });
    expect(connectionOptions(temporalConnectionFromEnv({}))).toEqual({ address: '127.0.0.1:7233', tls: false });
    const env = { TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'prod' };
    expect(temporalConnectionFromEnv(env)).toMatchObject({ address: 'temporal:7233', namespace: 'prod' });
    expect(temporalConnectionFromEnv(env, { address: 'other:1', namespace: 'ns' })).toMatchObject({ address: 'other:1', namespace: 'ns' });
  });

  it('mTLS from files: the CA, the client pair and the server name, as the SDK takes them', () => {
    const s = temporalConnectionFromEnv({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: client.key,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(Buffer.from(s.tls!.serverRootCACertificate!).toString()).toBe(readFileSync(ca.cert, 'utf8'));
    expect(Buffer.from(s.tls!.clientCertPair!.crt).toString()).toBe(readFileSync(client.cert, 'utf8'));
    expect(Buffer.from(s.tls!.clientCertPair!.key).toString()).toBe(readFileSync(client.key, 'utf8'));
    expect(s.tls!.serverNameOverride).toBe('temporal.internal');
    expect(describeTemporalConnection(s)).toBe('127.0.0.1:7233, namespace default, mTLS (client certificate), own CA, server name temporal.internal');
  });

  it('inline PEM (_DATA), as the temporal CLI takes it', () => {
    const s = temporalConnectionFromEnv({ TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(client.cert, 'utf8'), TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(client.key, 'utf8') });
    expect(Buffer.from(s.tls!.clientCertPair!.crt).toString()).toBe(readFileSync(client.cert, 'utf8'));
  });

  it('TEMPORAL_TLS turns TLS on with the system roots; an API key turns it on too, unless TEMPORAL_TLS=false', () => {
    expect(temporalConnectionFromEnv({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(temporalConnectionFromEnv({ TEMPORAL_TLS: '1' }).tls).toEqual({});
    expect(temporalConnectionFromEnv({ TEMPORAL_TLS: 'false' }).tls).toBeUndefined();
    const withKey = temporalConnectionFromEnv({ TEMPORAL_API_KEY: 'k-123' });
    expect(withKey).toMatchObject({ apiKey: 'k-123', tls: {} });
    expect(connectionOptions(withKey)).toEqual({ address: '127.0.0.1:7233', tls: {}, apiKey: 'k-123' });
    const plain = temporalConnectionFromEnv({ TEMPORAL_API_KEY: 'k-123', TEMPORAL_TLS: 'false' });
    expect(connectionOptions(plain)).toEqual({ address: '127.0.0.1:7233', tls: false, apiKey: 'k-123' });
    expect(describeTemporalConnection(withKey)).toBe('127.0.0.1:7233, namespace default, TLS, API key');
    expect(describeTemporalConnection(withKey)).not.toContain('k-123');
  });

  it('an empty variable counts as unset (compose passes through what the host does not define)', () => {
    expect(temporalConnectionFromEnv({ TEMPORAL_TLS: '', TEMPORAL_API_KEY: '', TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_ADDRESS: '' })).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
    });
  });

  it('refuses, naming the variable: a key without a certificate and the reverse, a missing file, both _PATH and _DATA', () => {
    expect(refused({ TEMPORAL_TLS_CLIENT_KEY_PATH: client.key })).toBe(
      'TEMPORAL_TLS_CLIENT_KEY_PATH is set but no client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH (or _DATA) too',
    );
    expect(refused({ TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert })).toBe('TEMPORAL_TLS_CLIENT_CERT_PATH is set but no client key: set TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA) too');
    const missing = join(dir, 'nope.pem');
    expect(refused({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing })).toBe(`TEMPORAL_TLS_SERVER_CA_CERT_PATH: ${missing}: no such file`);
    expect(refused({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: dir })).toBe(`TEMPORAL_TLS_SERVER_CA_CERT_PATH: ${dir}: a directory, not a file`);
    expect(refused({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert, TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'x' })).toBe(
      'set either TEMPORAL_TLS_SERVER_CA_CERT_PATH or TEMPORAL_TLS_SERVER_CA_CERT_DATA, not both',
    );
  });

  it('refuses a file that is not what its variable says, and a key of another certificate, without quoting the file', () => {
    const notCert = refused({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: notPem });
    expect(notCert).toBe(`TEMPORAL_TLS_SERVER_CA_CERT_PATH (${notPem}) does not hold a PEM certificate`);
    const notKey = refused({ TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: notPem });
    expect(notKey).toBe(`TEMPORAL_TLS_CLIENT_KEY_PATH (${notPem}) does not hold an unencrypted PEM private key`);
    const inline = refused({ TEMPORAL_TLS_CLIENT_CERT_DATA: SECRET, TEMPORAL_TLS_CLIENT_KEY_PATH: client.key });
    expect(inline).toBe('TEMPORAL_TLS_CLIENT_CERT_DATA does not hold a PEM certificate');
    for (const m of [notCert, notKey, inline]) expect(m).not.toContain(SECRET);
    expect(refused({ TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: other.key })).toBe(
      'TEMPORAL_TLS_CLIENT_KEY_PATH is not the key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH',
    );
  });

  it('refuses contradictions and what the SDK cannot do, rather than ignoring them', () => {
    expect(refused({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert })).toBe(
      'TEMPORAL_TLS is false but TEMPORAL_TLS_SERVER_CA_CERT_PATH is set: remove one or the other',
    );
    expect(refused({ TEMPORAL_TLS: 'yes' })).toBe('TEMPORAL_TLS must be true, false, 1 or 0');
    expect(refused({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).toMatch(/^TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported .* set TEMPORAL_TLS_SERVER_NAME/);
    expect(temporalConnectionFromEnv({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'false' }).tls).toBeUndefined();
    const newline = refused({ TEMPORAL_API_KEY: `${SECRET}\n` });
    expect(newline).toBe('TEMPORAL_API_KEY contains whitespace or control characters (a stray newline?)');
  });
});
