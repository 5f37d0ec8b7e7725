// Key material for each keyring purpose, made with real cryptography: an ECDSA P-256 CA certificate
// (client-ca), an ECDSA P-256 token-signing key pair (service-account), 32 random bytes for the
// EncryptionConfiguration's aescbc provider (secret-encryption). Material lives only in the key store;
// what leaves this module for the workflow is KeyMeta.
import 'reflect-metadata'; // @peculiar/x509's dependency injection (tsyringe) needs it loaded first
import { createHash, createHmac, createPublicKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KeyMeta, KeyPurpose } from '../core/keyring.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

interface MaterialBase {
  keyId: string;
  createdAt: string;
  notAfter: string;
}
export type KeyMaterial =
  | (MaterialBase & { purpose: 'client-ca'; certificatePem: string; privateKeyPem: string })
  | (MaterialBase & { purpose: 'service-account'; publicKeyPem: string; privateKeyPem: string })
  | (MaterialBase & { purpose: 'secret-encryption'; secret: string });

async function pemPair(keys: CryptoKeyPair): Promise<{ publicKeyPem: string; privateKeyPem: string }> {
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { publicKeyPem: x509.PemConverter.encode(spki, 'PUBLIC KEY'), privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

const newPair = () => webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

export async function generateKeyMaterial(purpose: KeyPurpose, opts: { cluster: string; keyId: string; now: Date; validityMs: number }): Promise<KeyMaterial> {
  const base = { keyId: opts.keyId, createdAt: opts.now.toISOString(), notAfter: new Date(opts.now.getTime() + opts.validityMs).toISOString() };
  if (purpose === 'secret-encryption') return { ...base, purpose, secret: randomBytes(32).toString('base64') };
  const keys = await newPair();
  const pems = await pemPair(keys);
  if (purpose === 'service-account') return { ...base, purpose, ...pems };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=itinerant ${opts.cluster} client CA ${opts.keyId}`,
    keys,
    notBefore: new Date(opts.now.getTime() - 60_000),
    notAfter: new Date(base.notAfter),
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { ...base, purpose, certificatePem: cert.toString('pem'), privateKeyPem: pems.privateKeyPem };
}

/** What the workflow may know of a key: its ID, times and a fingerprint that reveals nothing of it. */
export function keyMetaOf(m: KeyMaterial): KeyMeta {
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const fingerprint =
    m.purpose === 'client-ca'
      ? sha256(new X509Certificate(m.certificatePem).raw)
      : m.purpose === 'service-account'
        ? sha256(createPublicKey(m.publicKeyPem).export({ type: 'spki', format: 'der' }))
        : createHmac('sha256', Buffer.from(m.secret, 'base64')).update('itinerant key fingerprint').digest('hex');
  return { keyId: m.keyId, createdAt: m.createdAt, notAfter: m.notAfter, fingerprint: `sha256:${fingerprint}` };
}

export const serializeMaterial = (m: KeyMaterial): Buffer => Buffer.from(JSON.stringify(m), 'utf8');

export function parseMaterial(content: Buffer, expect: { purpose: KeyPurpose; keyId: string }): KeyMaterial {
  let m: KeyMaterial;
  try {
    m = JSON.parse(content.toString('utf8')) as KeyMaterial;
  } catch {
    throw new Error(`key ${expect.keyId} in the key store is not a key document`);
  }
  if (m.purpose !== expect.purpose || m.keyId !== expect.keyId) throw new Error(`key ${expect.keyId} in the key store is a ${m.purpose} key ${m.keyId}, not ${expect.purpose} ${expect.keyId}`);
  return m;
}

/** A client certificate signed by a client-ca key (O = groups), as the cluster's signer issues them. */
export async function issueClientCertificate(
  ca: Extract<KeyMaterial, { purpose: 'client-ca' }>,
  subject: { commonName: string; organizations?: string[] },
  opts: { now: Date; validityMs: number },
): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const caCert = new x509.X509Certificate(ca.certificatePem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.privateKeyPem), EC, false, ['sign']);
  const keys = await newPair();
  const name = [`CN=${subject.commonName}`, ...(subject.organizations ?? []).map((o) => `O=${o}`)].join(', ');
  const cert = await x509.X509CertificateGenerator.create({
    subject: name,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey as unknown as x509.X509CertificateCreateWithKeyParams['signingKey'],
    notBefore: new Date(opts.now.getTime() - 60_000),
    notAfter: new Date(opts.now.getTime() + opts.validityMs),
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certificatePem: cert.toString('pem'), privateKeyPem: (await pemPair(keys)).privateKeyPem };
}
