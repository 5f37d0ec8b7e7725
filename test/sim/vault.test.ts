// The simulated OCI Vault driven by the real oci-vault / oci-secrets clients: lifecycle, version stages,
// list filters and pages, deletion, retry tokens and limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as common from 'oci-common';
import { requests as secretsRequests, SecretsClient } from 'oci-secrets';
import { models, requests as vaultRequests, VaultsClient } from 'oci-vault';
import type { OciSim } from '../../testbeds/sim/oci/index.js';
import { NO_RETRY, startTestOciSim, type TestOciSim } from '../helpers/oci-sim.js';
import { waitFor } from '../helpers/wait.js';

const COMPARTMENT = 'ocid1.compartment.oc1..sim';
const OTHER_COMPARTMENT = 'ocid1.compartment.oc1..other';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const { Stage } = secretsRequests.GetSecretBundleRequest;

describe('simulated OCI Vault with the real OCI SDK', () => {
  let bed: TestOciSim;
  let sim: OciSim;
  let vaults: VaultsClient;
  let bundles: SecretsClient;

  beforeAll(async () => {
    bed = await startTestOciSim({ compartmentId: COMPARTMENT, secretStateDelayMs: 250 });
    sim = bed.sim;
    vaults = new VaultsClient({ authenticationDetailsProvider: bed.provider }, { retryConfiguration: NO_RETRY });
    bundles = new SecretsClient({ authenticationDetailsProvider: bed.provider }, { retryConfiguration: NO_RETRY });
    vaults.endpoint = bed.url; // the SDK appends "/20180608"
    bundles.endpoint = bed.url; // and "/20190301"
  });

  afterAll(async () => {
    await bed?.close();
  });

  const create = (secretName: string, content: string, extra: { compartmentId?: string; opcRetryToken?: string } = {}) =>
    vaults.createSecret({
      ...(extra.opcRetryToken ? { opcRetryToken: extra.opcRetryToken } : {}),
      createSecretDetails: {
        compartmentId: extra.compartmentId ?? COMPARTMENT,
        vaultId: sim.vault.vaultId,
        keyId: sim.vault.masterKeyId,
        secretName,
        secretContent: { contentType: 'BASE64', content: b64(content) },
      },
    });
  const active = (secretId: string) => waitFor(`${secretId} ACTIVE`, async () => (await vaults.getSecret({ secretId })).secret.lifecycleState === models.Secret.LifecycleState.Active, 2000);
  const update = async (secretId: string, secretContent: models.Base64SecretContentDetails | undefined, currentVersionNumber?: number) => {
    const res = await vaults.updateSecret({ secretId, updateSecretDetails: { ...(secretContent ? { secretContent } : {}), ...(currentVersionNumber ? { currentVersionNumber } : {}) } });
    await active(secretId);
    return res;
  };
  const refusal = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err as common.OciError,
    );
    expect(e, 'expected OCI to refuse').toBeInstanceOf(common.OciError);
    return { status: e!.statusCode, code: e!.serviceCode };
  };
  const bundle = async (secretId: string, which: { stage?: secretsRequests.GetSecretBundleRequest.Stage; versionNumber?: number; secretVersionName?: string }) => {
    const { secretBundle } = await bundles.getSecretBundle({ secretId, ...which });
    return { version: secretBundle.versionNumber, stages: secretBundle.stages, content: Buffer.from(secretBundle.secretBundleContent!.content!, 'base64').toString() };
  };

  it('a new secret is CREATING, then ACTIVE; it refuses changes until then; its answers carry no content', async () => {
    const { secret, etag } = await create('life', 'one');
    expect(secret.lifecycleState).toBe('CREATING');
    expect(secret.currentVersionNumber).toBe(1);
    expect(etag).toBeTruthy();
    expect(JSON.stringify(secret)).not.toContain(b64('one'));
    expect(await refusal(vaults.updateSecret({ secretId: secret.id, updateSecretDetails: { secretContent: { contentType: 'BASE64', content: b64('two') } } }))).toEqual({
      status: 409,
      code: 'IncorrectState',
    });
    await active(secret.id);
    expect(sim.vault.readCurrent('life')?.toString()).toBe('one');
  });

  it('a new CURRENT version makes the one before PREVIOUS and older ones DEPRECATED; PENDING versions wait to be promoted', async () => {
    const { secret } = await create('staged', 'v1');
    await active(secret.id);
    await update(secret.id, { contentType: 'BASE64', content: b64('v2') });
    await update(secret.id, { contentType: 'BASE64', content: b64('v3'), stage: models.SecretContentDetails.Stage.Pending, name: 'next' });
    expect(await bundle(secret.id, {})).toEqual({ version: 2, stages: ['CURRENT'], content: 'v2' });
    expect(await bundle(secret.id, { stage: Stage.Pending })).toEqual({ version: 3, stages: ['PENDING', 'LATEST'], content: 'v3' });
    expect(await bundle(secret.id, { stage: Stage.Previous })).toMatchObject({ version: 1, content: 'v1' });
    expect(await bundle(secret.id, { secretVersionName: 'next' })).toMatchObject({ version: 3 });

    const promoted = await update(secret.id, undefined, 3);
    expect(promoted.secret.currentVersionNumber).toBe(3);
    expect(await bundle(secret.id, { stage: Stage.Current })).toEqual({ version: 3, stages: ['CURRENT', 'LATEST'], content: 'v3' });
    expect(await bundle(secret.id, { versionNumber: 2 })).toMatchObject({ stages: ['PREVIOUS'] });
    expect(await bundle(secret.id, { versionNumber: 1 })).toMatchObject({ stages: ['DEPRECATED'] });
    expect(await refusal(bundles.getSecretBundle({ secretId: secret.id, versionNumber: 4 }))).toEqual({ status: 404, code: 'NotAuthorizedOrNotFound' });
    expect(await refusal(bundles.getSecretBundleByName({ secretName: 'staged', vaultId: 'ocid1.vault.oc1.iad.simother' }))).toMatchObject({ status: 404 });
    const stale = await refusal(vaults.updateSecret({ secretId: secret.id, ifMatch: 'not-the-etag', updateSecretDetails: { description: 'x' } }));
    expect(stale).toEqual({ status: 412, code: 'NoEtagMatch' });
  });

  it('lists by compartment, vault, name and state, sorted and in pages', async () => {
    const ids: string[] = [];
    for (const n of ['list-c', 'list-a', 'list-b']) ids.push((await create(n, n)).secret.id);
    await create('list-elsewhere', 'x', { compartmentId: OTHER_COMPARTMENT });
    for (const id of ids) await active(id);
    const names = async (req: Partial<Parameters<VaultsClient['listSecrets']>[0]>) => {
      const out: string[] = [];
      for await (const s of vaults.listSecretsRecordIterator({ compartmentId: COMPARTMENT, ...req })) out.push(s.secretName);
      return out.filter((n) => n.startsWith('list-'));
    };
    expect(await names({ sortBy: vaultRequests.ListSecretsRequest.SortBy.Name, limit: 1 })).toEqual(['list-a', 'list-b', 'list-c']);
    expect(await names({ name: 'list-b', vaultId: sim.vault.vaultId })).toEqual(['list-b']);
    expect(await names({ vaultId: 'ocid1.vault.oc1.iad.simother' })).toEqual([]);
    expect(await names({ compartmentId: OTHER_COMPARTMENT })).toEqual(['list-elsewhere']);
    await vaults.scheduleSecretDeletion({ secretId: ids[0]!, scheduleSecretDeletionDetails: {} });
    expect(await names({ lifecycleState: 'ACTIVE', sortBy: vaultRequests.ListSecretsRequest.SortBy.Name })).toEqual(['list-a', 'list-b']);
  });

  it('schedules deletion once: the secret is PENDING_DELETION, keeps its name, and is not read in-process', async () => {
    const { secret } = await create('doomed', 'bye');
    await active(secret.id);
    expect(await refusal(vaults.scheduleSecretDeletion({ secretId: secret.id, scheduleSecretDeletionDetails: { timeOfDeletion: new Date(Date.now() - 1000) } }))).toEqual({
      status: 400,
      code: 'InvalidParameter',
    });
    await vaults.scheduleSecretDeletion({ secretId: secret.id, scheduleSecretDeletionDetails: {} });
    const { secret: after } = await vaults.getSecret({ secretId: secret.id });
    expect(after.lifecycleState).toBe('PENDING_DELETION');
    // the SDK hands dates over as the wire's strings
    expect(Date.parse(String(after.timeOfDeletion))).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(await refusal(vaults.scheduleSecretDeletion({ secretId: secret.id, scheduleSecretDeletionDetails: {} }))).toEqual({ status: 409, code: 'IncorrectState' });
    expect(await refusal(create('doomed', 'again'))).toEqual({ status: 409, code: 'Conflict' });
    expect(sim.vault.readCurrent('doomed')).toBeUndefined();
  });

  it('a retry token answers a repeated create with the same secret, and refuses it for another request; content is limited to 25 KB', async () => {
    const first = await create('tokened', 'same', { opcRetryToken: 'token-1' });
    const again = await create('tokened', 'same', { opcRetryToken: 'token-1' });
    expect(again.secret.id).toBe(first.secret.id);
    expect(await refusal(create('tokened', 'different', { opcRetryToken: 'token-1' }))).toEqual({ status: 409, code: 'Conflict' });
    expect(await refusal(create('huge', 'x'.repeat(20_000)))).toEqual({ status: 400, code: 'InvalidParameter' });
  });
});
