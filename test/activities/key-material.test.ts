import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyMaterial, issueClientCertificate, keyMetaOf, parseMaterial, serializeMaterial } from '../../src/activities/key-material.js';

const now = new Date('2026-11-30T12:00:00Z');
const opts = { cluster: 'c1', now, validityMs: 90 * 86_400_000 };

describe('key material', () => {
  it('client-ca: a self-signed CA that signs client certificates the CA verifies', async () => {
    const ca = await generateKeyMaterial('client-ca', { ...opts, keyId: 'k1' });
    if (ca.purpose !== 'client-ca') throw new Error('wrong purpose');
    const caCert = new X509Certificate(ca.certificatePem);
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toContain('k1');
    expect(new Date(caCert.validTo).toISOString()).toBe('2027-02-28T12:00:00.000Z');
    const client = await issueClientCertificate(ca, { commonName: 'probe', organizations: ['system:masters'] }, { now, validityMs: 3_600_000 });
    const clientCert = new X509Certificate(client.certificatePem);
    expect(clientCert.checkIssued(caCert)).toBe(true);
    expect(clientCert.verify(caCert.publicKey)).toBe(true);
    expect(clientCert.subject).toMatch(/CN=probe/);
    const other = await generateKeyMaterial('client-ca', { ...opts, keyId: 'k2' });
    expect(clientCert.verify(new X509Certificate((other as typeof ca).certificatePem).publicKey)).toBe(false);
  });

  it('service-account: an ES256 key pair', async () => {
    const m = await generateKeyMaterial('service-account', { ...opts, keyId: 'k1' });
    if (m.purpose !== 'service-account') throw new Error('wrong purpose');
    const sig = sign('sha256', Buffer.from('x'), createPrivateKey(m.privateKeyPem));
    expect(verify('sha256', Buffer.from('x'), createPublicKey(m.publicKeyPem), sig)).toBe(true);
  });

  it('secret-encryption: 32 random bytes, a fingerprint that is not the key', async () => {
    const a = await generateKeyMaterial('secret-encryption', { ...opts, keyId: 'k1' });
    const b = await generateKeyMaterial('secret-encryption', { ...opts, keyId: 'k1' });
    if (a.purpose !== 'secret-encryption' || b.purpose !== 'secret-encryption') throw new Error('wrong purpose');
    expect(Buffer.from(a.secret, 'base64')).toHaveLength(32);
    expect(a.secret).not.toBe(b.secret);
    expect(keyMetaOf(a).fingerprint).not.toBe(keyMetaOf(b).fingerprint);
    expect(keyMetaOf(a).fingerprint).not.toContain(Buffer.from(a.secret, 'base64').toString('hex'));
  });

  it('meta carries ID, times and fingerprint only; the document round-trips and is checked', async () => {
    for (const purpose of ['client-ca', 'service-account', 'secret-encryption'] as const) {
      const m = await generateKeyMaterial(purpose, { ...opts, keyId: 'k9' });
      const meta = keyMetaOf(m);
      expect(Object.keys(meta).sort()).toEqual(['createdAt', 'fingerprint', 'keyId', 'notAfter']);
      expect(meta.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(keyMetaOf(parseMaterial(serializeMaterial(m), { purpose, keyId: 'k9' }))).toEqual(meta);
      expect(() => parseMaterial(serializeMaterial(m), { purpose, keyId: 'other' })).toThrow(/not .* other/);
    }
  });
});
