// The key store with the real oci-vault / oci-secrets clients (request signatures and all) against the
// simulated tenancy's vault over HTTP, as the fleet.yaml of the sim configures it.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import * as common from 'oci-common';
import { SecretsClient } from 'oci-secrets';
import { VaultsClient } from 'oci-vault';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClientRegistry } from '../../src/activities/clients.js';
import { KeyStore, keyStoreFor } from '../../src/activities/key-store.js';
import { fleetConfigSchema } from '../../src/core/config.js';
import { generateOciCredentials, signRequest } from '../../testbeds/sim/oci/index.js';
import { startFixture, type Fixture } from './helpers.js';

let fx: Fixture;
let clients: ClientRegistry;
let store: KeyStore;
const simLog: string[] = [];
/** Every content written: none may show up in the sim's log or in an error message. */
const written: Buffer[] = [];
const errors: string[] = [];

const secret = () => {
  const b = randomBytes(48);
  written.push(b);
  return b;
};

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApplicationFailure);
    errors.push((e as Error).message);
    return e as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  // The OCI SDK console.warns every failed request (404s included): keep the output readable.
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  fx = await startFixture({ seed: false, log: (line) => simLog.push(line) });
  clients = new ClientRegistry(fx.fleet);
  store = keyStoreFor(clients, fx.cluster, { settlePollMs: 20 });
});

afterAll(async () => {
  await fx?.stop();
  vi.restoreAllMocks();
});

describe('key store over the simulated OCI Vault', () => {
  it('the sim fleet file configures the vault, and a cluster without keyStore has no key store', () => {
    const c = fx.fleet.clusters[0]!;
    expect(c.keyStore).toEqual({ vaultId: fx.sim.oci.vault.vaultId, masterKeyId: fx.sim.oci.vault.masterKeyId });
    expect(c.oci.endpoints).toMatchObject({ vaults: fx.sim.ociUrl, secrets: fx.sim.ociUrl });
    const bad = fleetConfigSchema.safeParse({ clusters: [{ ...c, keyStore: { vaultId: 'vault-1', masterKeyId: c.keyStore!.masterKeyId } }] });
    expect(bad.success).toBe(false);
    const without = new ClientRegistry(fleetConfigSchema.parse({ clusters: [{ ...c, keyStore: undefined }] }));
    expect(without.for(c.name).vaults).toBeUndefined();
    expect(() => keyStoreFor(without, c.name)).toThrow(/has no keyStore/);
  });

  it('creates, reads and versions a secret: the previous version stays readable', async () => {
    const v1 = secret();
    const v2 = secret();
    expect(await store.write('ca/key', v1)).toEqual({ version: 1 });
    expect(await store.read('ca/key')).toEqual({ content: v1, version: 1 });
    expect(await store.write('ca/key', v2)).toEqual({ version: 2 });
    expect(await store.read('ca/key')).toEqual({ content: v2, version: 2 });
    expect(await store.readVersion('ca/key', 1)).toEqual({ content: v1, version: 1 });
    expect(await store.readVersion('ca/key', 3)).toBeUndefined();
    // What the simulated control plane reads in-process.
    expect(fx.sim.oci.vault.readCurrent('ca/key')).toEqual(v2);
    // As OCI stages them: the new version CURRENT, the one before PREVIOUS.
    const bundles = clients.for(fx.cluster).secrets!;
    const vaultId = fx.sim.oci.vault.vaultId;
    const previous = await bundles.getSecretBundleByName({ secretName: 'ca/key', vaultId, stage: 'PREVIOUS' as never });
    expect(previous.secretBundle.versionNumber).toBe(1);
    expect(previous.secretBundle.stages).toEqual(['PREVIOUS']);
    const current = await bundles.getSecretBundleByName({ secretName: 'ca/key', vaultId });
    expect(current.secretBundle.stages).toEqual(['CURRENT', 'LATEST']);
  });

  it('compare-and-set: a write expecting another version is refused (KeyStoreConflict) and changes nothing', async () => {
    const v1 = secret();
    await store.write('sa/signing', v1, { expectVersion: 0 });
    const stale = await failure(store.write('sa/signing', secret(), { expectVersion: 2 }));
    expect(stale.type).toBe('KeyStoreConflict');
    expect(stale.nonRetryable).toBe(true);
    expect(stale.message).toContain('sa/signing');
    expect((await failure(store.write('sa/signing', secret(), { expectVersion: 0 }))).type).toBe('KeyStoreConflict');
    expect((await failure(store.write('sa/absent', secret(), { expectVersion: 1 }))).type).toBe('KeyStoreConflict');
    expect(await store.read('sa/signing')).toEqual({ content: v1, version: 1 });
    expect(await store.write('sa/signing', secret(), { expectVersion: 1 })).toEqual({ version: 2 });
    // Two writers from the same version at once: one wins, the other is told, and nothing is lost.
    const [a, b] = [secret(), secret()];
    const results = await Promise.allSettled([store.write('sa/signing', a, { expectVersion: 2 }), store.write('sa/signing', b, { expectVersion: 2 })]);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    expect(results[won]).toEqual({ status: 'fulfilled', value: { version: 3 } });
    const lost = results[1 - won] as PromiseRejectedResult;
    expect((lost.reason as ApplicationFailure).type).toBe('KeyStoreConflict');
    errors.push((lost.reason as Error).message);
    expect(await store.read('sa/signing')).toEqual({ content: won === 0 ? a : b, version: 3 });
  });

  it('a retried write after a lost answer makes no second version, for a create and for an update', async () => {
    const vaults = clients.for(fx.cluster).vaults!;
    const v1 = secret();
    const token = `test-${randomBytes(8).toString('hex')}`;
    const where = { compartmentId: fx.sim.compartmentId, vaultId: fx.sim.oci.vault.vaultId, keyId: fx.sim.oci.vault.masterKeyId };
    // The create happened, its answer was lost: the retry with the same token gets that secret.
    const first = await vaults.createSecret({
      opcRetryToken: token,
      createSecretDetails: { ...where, secretName: 'etcd/encryption', secretContent: { contentType: 'BASE64', content: v1.toString('base64') } },
    });
    expect(await store.write('etcd/encryption', v1, { retryToken: token, expectVersion: 0 })).toEqual({ version: 1 });
    expect(await store.write('etcd/encryption', v1)).toEqual({ version: 1 });
    // An update that happened, then its retry expecting the version it started from.
    const v2 = secret();
    await vaults.updateSecret({ secretId: first.secret.id, updateSecretDetails: { secretContent: { contentType: 'BASE64', content: v2.toString('base64') } } });
    expect(await store.write('etcd/encryption', v2, { expectVersion: 1 })).toEqual({ version: 2 });
    expect(await store.readVersion('etcd/encryption', 3)).toBeUndefined();
    expect((await vaults.listSecrets({ compartmentId: fx.sim.compartmentId, name: 'etcd/encryption' })).items).toHaveLength(1);
  });

  it('a lost answer retried by the SDK itself writes once: the create by its retry token, the update by if-match and the content', async () => {
    const v1 = secret();
    const v2 = secret();
    fx.sim.oci.faults.lostSecretWriteResponses = 1;
    expect(await store.write('lost/answer', v1)).toEqual({ version: 1 });
    fx.sim.oci.faults.lostSecretWriteResponses = 1;
    expect(await store.write('lost/answer', v2, { expectVersion: 1 })).toEqual({ version: 2 });
    expect(fx.sim.oci.faults.lostSecretWriteResponses).toBe(0);
    expect(await store.readVersion('lost/answer', 3)).toBeUndefined();
    expect(await store.read('lost/answer')).toEqual({ content: v2, version: 2 });
  });

  it('lists live secrets by prefix across pages, and removes idempotently', async () => {
    const small = keyStoreFor(clients, fx.cluster, { pageSize: 2, settlePollMs: 20 });
    const list = vi.spyOn(clients.for(fx.cluster).vaults!, 'listSecrets');
    for (const n of ['keyring/3', 'keyring/1', 'keyring/2', 'keyring/5', 'keyring/4', 'other/1']) await small.write(n, secret());
    await small.remove('keyring/4');
    await small.remove('keyring/4');
    await small.remove('never-written');
    list.mockClear();
    expect(await small.list('keyring/')).toEqual(['keyring/1', 'keyring/2', 'keyring/3', 'keyring/5']);
    expect(list.mock.calls.length).toBeGreaterThan(3);
    list.mockRestore();
    expect(await small.read('keyring/4')).toBeUndefined();
    expect(fx.sim.oci.vault.readCurrent('keyring/4')).toBeUndefined();
    // Its name stays taken while it waits for deletion, as in OCI.
    expect((await failure(small.write('keyring/4', secret()))).type).toBe('KeyStoreRefused');
  });

  it('unknown names read as undefined', async () => {
    expect(await store.read('nobody')).toBeUndefined();
    expect(await store.readVersion('nobody', 1)).toBeUndefined();
    expect(await store.list('nobody/')).toEqual([]);
  });

  it('refuses unsigned and wrongly signed requests (401), through the SDK and over plain HTTP', async () => {
    const url = `${fx.sim.ociUrl}/20180608/secrets?compartmentId=${fx.sim.compartmentId}`;
    expect((await fetch(url)).status).toBe(401);
    const other = generateOciCredentials();
    expect((await fetch(url, { headers: signRequest({ method: 'GET', url, keyId: other.keyId, privateKeyPem: other.privateKeyPem }) })).status).toBe(401);
    const bundleUrl = `${fx.sim.ociUrl}/20190301/secretbundles/actions/getByName?secretName=ca%2Fkey&vaultId=${fx.sim.oci.vault.vaultId}`;
    expect((await fetch(bundleUrl, { method: 'POST' })).status).toBe(401);

    const provider = new common.SimpleAuthenticationDetailsProvider(other.tenancy, other.user, other.fingerprint, other.privateKeyPem, null, common.Region.US_ASHBURN_1);
    const vaults = new VaultsClient({ authenticationDetailsProvider: provider });
    const secrets = new SecretsClient({ authenticationDetailsProvider: provider });
    vaults.endpoint = fx.sim.ociUrl;
    secrets.endpoint = fx.sim.ociUrl;
    const stranger = new KeyStore(vaults, secrets, { vaultId: fx.sim.oci.vault.vaultId, compartmentId: fx.sim.compartmentId, masterKeyId: fx.sim.oci.vault.masterKeyId });
    const refused = await failure(stranger.read('ca/key'));
    expect(refused.type).toBe('KeyStoreRefused');
    expect(refused.message).toMatch(/ca\/key.*401 NotAuthenticated/);
  });

  it('answers OCI-shaped errors: 404 unknown secret or vault, 409 duplicate name, 400 malformed content, 412 stale etag', async () => {
    const { credentials } = fx.sim.oci;
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const url = `${fx.sim.ociUrl}${path}`;
      const text = body === undefined ? undefined : JSON.stringify(body);
      const res = await fetch(url, {
        method,
        ...(text !== undefined ? { body: text } : {}),
        headers: signRequest({ method, url, ...(text !== undefined ? { body: text } : {}), keyId: credentials.keyId, privateKeyPem: credentials.privateKeyPem, headers }),
      });
      const raw = await res.text();
      errors.push(raw);
      return { status: res.status, body: raw ? (JSON.parse(raw) as { code?: string; id?: string }) : {}, etag: res.headers.get('etag') };
    };
    const vault = fx.sim.oci.vault;
    const content = secret().toString('base64');
    const create = (vaultId: string, secretContent: unknown) =>
      call('POST', '/20180608/secrets', { compartmentId: fx.sim.compartmentId, vaultId, keyId: vault.masterKeyId, secretName: 'wire/one', secretContent });
    expect(await call('GET', '/20180608/secrets/ocid1.vaultsecret.oc1.iad.simnothere')).toMatchObject({ status: 404, body: { code: 'NotAuthorizedOrNotFound' } });
    expect(await call('GET', '/20190301/secretbundles/ocid1.vaultsecret.oc1.iad.simnothere')).toMatchObject({ status: 404, body: { code: 'NotAuthorizedOrNotFound' } });
    expect(await create('ocid1.vault.oc1.iad.simnothere', { contentType: 'BASE64', content })).toMatchObject({ status: 404, body: { code: 'NotAuthorizedOrNotFound' } });
    expect(await create(vault.vaultId, { contentType: 'BASE64', content: `${content}!` })).toMatchObject({ status: 400, body: { code: 'InvalidParameter' } });
    expect(await create(vault.vaultId, { contentType: 'TEXT', content })).toMatchObject({ status: 400 });
    expect(await call('GET', '/20180608/secrets')).toMatchObject({ status: 400, body: { code: 'MissingParameter' } });
    const made = await create(vault.vaultId, { contentType: 'BASE64', content });
    expect(made.status).toBe(200);
    expect(await create(vault.vaultId, { contentType: 'BASE64', content })).toMatchObject({ status: 409, body: { code: 'Conflict' } });
    await new Promise((r) => setTimeout(r, 150)); // CREATING → ACTIVE
    const id = made.body.id!;
    const update = { secretContent: { contentType: 'BASE64', content: secret().toString('base64') } };
    expect(await call('PUT', `/20180608/secrets/${id}`, update, { 'if-match': 'stale' })).toMatchObject({ status: 412, body: { code: 'NoEtagMatch' } });
    expect((await call('GET', `/20180608/secrets/${id}`)).body).not.toHaveProperty('secretContent');
  });

  it('never puts secret content in the sim log or in an error', () => {
    expect(simLog.length).toBeGreaterThan(20);
    expect(errors.length).toBeGreaterThan(5);
    const haystack = [...simLog, ...errors].join('\n');
    for (const b of written) {
      for (const form of [b.toString('base64'), b.toString('hex'), b.toString('base64url')]) expect(haystack).not.toContain(form);
    }
  });
});
