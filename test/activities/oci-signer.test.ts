import { generateKeyPairSync } from 'node:crypto';
import { DefaultRequestSigner, Region, SimpleAuthenticationDetailsProvider, type HttpRequest } from 'oci-common';
import { describe, expect, it } from 'vitest';
import { ParsedKeyRequestSigner } from '../../src/activities/oci-signer.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const ENCRYPTED = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass phrase' }).toString();
const DATE = 'Tue, 01 Dec 2026 12:00:00 GMT';

const provider = (key: string, passphrase: string | null = null) =>
  new SimpleAuthenticationDetailsProvider('ocid1.tenancy.oc1..t', 'ocid1.user.oc1..u', '12:34:56', key, passphrase, Region.US_ASHBURN_1);

function request(method: string, uri: string, body?: string, headers: Record<string, string> = {}): HttpRequest {
  return { method, uri, body, headers: new Headers({ 'x-date': DATE, ...headers }) } as HttpRequest;
}

/** Every header of `req` after `signer` signed it. */
async function signedBy(signer: { signHttpRequest(r: HttpRequest, exclude?: boolean): unknown }, req: HttpRequest, exclude?: boolean) {
  await signer.signHttpRequest(req, exclude);
  const { date, ...headers } = Object.fromEntries(req.headers.entries());
  expect(date).toMatch(/GMT$/); // unsigned, set by both: not compared, the two calls may fall in two seconds
  return headers;
}

describe('ParsedKeyRequestSigner', () => {
  const cases: [string, HttpRequest, boolean?][] = [
    ['GET with a query', request('GET', 'https://iaas.us-ashburn-1.oraclecloud.com/20160918/instances?compartmentId=ocid1.compartment.oc1..c&displayName=a%20b&page=2')],
    ['DELETE', request('DELETE', 'https://127.0.0.1:8443/20160918/instances/ocid1.instance.oc1..x?preserveBootVolume=false')],
    ['POST with a JSON body', request('POST', 'https://iaas.example/20160918/instances', JSON.stringify({ displayName: 'név-1', metadata: { a: 'ü' } }))],
    ['PUT with no body', request('PUT', 'https://iaas.example/20160918/images/ocid1.image.oc1..i')],
    ['POST with its own content type and length', request('POST', 'https://iaas.example/x', '{}', { 'content-type': 'application/merge-patch+json', 'content-length': '2' })],
    ['POST with the body excluded', request('POST', 'https://objectstorage.example/n/b/o/x', 'data'), true],
  ];

  it.each(cases)('signs %s exactly as the SDK does', async (_what, req, exclude) => {
    const copy = { ...req, headers: new Headers(req.headers) };
    const ours = await signedBy(new ParsedKeyRequestSigner(provider(PEM)), req, exclude);
    const sdk = await signedBy(new DefaultRequestSigner(provider(PEM)), copy, exclude);
    expect(ours).toEqual(sdk);
    expect(ours.authorization).toMatch(/^Signature version="1",keyId="ocid1\.tenancy\.oc1\.\.t\/ocid1\.user\.oc1\.\.u\/12:34:56",algorithm="rsa-sha256",headers="x-date \(request-target\) host/);
  });

  it('reads a key under a pass phrase, and signs as the SDK does with it', async () => {
    const uri = 'https://iaas.example/20160918/instances/ocid1.instance.oc1..x';
    const ours = await signedBy(new ParsedKeyRequestSigner(provider(ENCRYPTED, 'pass phrase')), request('GET', uri));
    const sdk = await signedBy(new DefaultRequestSigner(provider(ENCRYPTED, 'pass phrase')), request('GET', uri));
    expect(ours.authorization).toBe(sdk.authorization);
  });

  it('signs with the new key when the provider hands out another one', async () => {
    const p = provider(PEM);
    const signer = new ParsedKeyRequestSigner(p);
    const before = await signedBy(signer, request('GET', 'https://iaas.example/a'));
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    (p as unknown as { privateKey: string }).privateKey = other;
    const after = await signedBy(signer, request('GET', 'https://iaas.example/a'));
    const sdk = await signedBy(new DefaultRequestSigner(provider(other)), request('GET', 'https://iaas.example/a'));
    expect(after.authorization).not.toBe(before.authorization);
    expect(after.authorization).toBe(sdk.authorization);
  });

  it('leaves a key that is not RSA to the SDK, which signs with it as before', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ours = await signedBy(new ParsedKeyRequestSigner(provider(ec)), request('GET', 'https://iaas.example/a'));
    const sdk = await signedBy(new DefaultRequestSigner(provider(ec)), request('GET', 'https://iaas.example/a'));
    const withoutSignature = (h: Record<string, string>) => h.authorization?.replace(/signature="[^"]*"/, '');
    expect(withoutSignature(ours)).toBe(withoutSignature(sdk));
    expect(ours.authorization).toContain('algorithm="ecdsa-sha256"');
  });
});
