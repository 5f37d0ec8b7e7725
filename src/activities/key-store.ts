// The cluster's key store: private key material as OCI Vault secrets, by secret name within the cluster's
// vault (fleet config `keyStore`). Written through oci-vault, read as secret bundles through oci-secrets.
// No error this throws carries secret content: messages name the secret, the operation and OCI's status.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { OciError } from 'oci-common';
import { requests as secretsRequests, type SecretsClient } from 'oci-secrets';
import { models as vaultModels, requests as vaultRequests, type VaultsClient } from 'oci-vault';
import type { ClientRegistry } from './clients.js';
import { isNoAnswer, statusOf } from './oci-errors.js';

type SecretState = vaultModels.SecretSummary.LifecycleState;
const { Active, Updating, Creating } = vaultModels.SecretSummary.LifecycleState;
/** A secret that serves its current version: ACTIVE, or UPDATING (a new version on its way). */
const LIVE = new Set<SecretState>([Active, Updating]);
const GONE = new Set<string>(['DELETING', 'DELETED', 'SCHEDULING_DELETION', 'PENDING_DELETION']);

export interface KeyStoreLocation {
  vaultId: string;
  /** The secrets' compartment. */
  compartmentId: string;
  /** The vault's master encryption key the secrets are encrypted with. */
  masterKeyId: string;
}

export interface KeyStoreOptions {
  /** ListSecrets page size; default 100. */
  pageSize?: number;
  /** How long a write waits for its secret to become ACTIVE again; default 20 s. */
  settleTimeoutMs?: number;
  settlePollMs?: number;
}

export interface WriteOptions {
  /** Compare-and-set: the version the secret must be at (0: it must not exist), else KeyStoreConflict. */
  expectVersion?: number;
  /** opc-retry-token of the create, one per write: stable across attempts, it lets OCI answer a retried create with the secret it made. */
  retryToken?: string;
}

/** The key store of a cluster whose fleet configuration has a keyStore. */
export function keyStoreFor(clients: ClientRegistry, cluster: string, opts: KeyStoreOptions = {}): KeyStore {
  const c = clients.for(cluster);
  const ks = c.config.keyStore;
  if (!ks || !c.vaults || !c.secrets) throw ApplicationFailure.nonRetryable(`cluster ${cluster} has no keyStore in the fleet configuration`, 'ConfigError');
  return new KeyStore(c.vaults, c.secrets, { vaultId: ks.vaultId, compartmentId: ks.compartmentId ?? c.config.compartmentId, masterKeyId: ks.masterKeyId }, opts);
}

export class KeyStore {
  private readonly pageSize: number;
  private readonly settleTimeoutMs: number;
  private readonly settlePollMs: number;

  constructor(
    private readonly vaults: VaultsClient,
    private readonly secrets: SecretsClient,
    private readonly where: KeyStoreLocation,
    opts: KeyStoreOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? 100;
    this.settleTimeoutMs = opts.settleTimeoutMs ?? 20_000;
    this.settlePollMs = opts.settlePollMs ?? 100;
  }

  /** The current version of the named live secret; undefined when there is none. */
  async read(name: string): Promise<{ content: Buffer; version: number } | undefined> {
    return this.readBundle(name, { stage: secretsRequests.GetSecretBundleRequest.Stage.Current });
  }

  /** One version of the named live secret; undefined when the secret or that version does not exist. */
  async readVersion(name: string, version: number): Promise<{ content: Buffer; version: number } | undefined> {
    return this.readBundle(name, { versionNumber: version });
  }

  /**
   * Creates the secret, or makes `content` its new current version. Idempotent: when the current version
   * already holds this content (a retry after a lost answer), that version is the answer and nothing is
   * written. Updates go with if-match, so a concurrent change in between is never overwritten.
   */
  async write(name: string, content: Buffer, opts: WriteOptions = {}): Promise<{ version: number }> {
    let secret = await this.find(name, 'write');
    if (!secret) {
      if (opts.expectVersion !== undefined && opts.expectVersion !== 0) throw conflict(name, opts.expectVersion, 'absent');
      const created = await this.create(name, content, opts.retryToken ?? randomUUID());
      if (created) {
        await this.settle(created.id, name);
        return { version: created.currentVersionNumber ?? 1 };
      }
      secret = await this.find(name, 'write');
      if (!secret) throw ApplicationFailure.retryable(`key store: write secret ${name}: its create conflicted, yet it is not there`, 'KeyStoreUnavailable');
    }
    if (GONE.has(secret.lifecycleState)) {
      throw ApplicationFailure.nonRetryable(`key store: write secret ${name}: it is ${secret.lifecycleState}; its name is taken until then`, 'KeyStoreRefused');
    }
    await this.settle(secret.id, name);
    const { secret: current, etag } = await this.call('write', name, () => this.vaults.getSecret({ secretId: secret.id }));
    const version = current.currentVersionNumber ?? 1;
    const held = await this.bundle(name, secret.id, { versionNumber: version });
    if (held && sameContent(held.content, content)) return { version };
    if (opts.expectVersion !== undefined && opts.expectVersion !== version) throw conflict(name, opts.expectVersion, version);
    let updated: vaultModels.Secret;
    try {
      const details = { secretContent: base64Content(content) };
      updated = (await this.vaults.updateSecret({ secretId: secret.id, updateSecretDetails: details, ...(etag ? { ifMatch: etag } : {}) })).secret;
    } catch (e) {
      if (statusOf(e) !== 412 && statusOf(e) !== 409) fail(e, 'write', name);
      // Changed since we read it: by this very update whose answer was lost (the SDK retried it), or by another writer.
      const now = await this.bundle(name, secret.id, { stage: secretsRequests.GetSecretBundleRequest.Stage.Current });
      if (now && sameContent(now.content, content)) return { version: now.version };
      throw conflict(name, version, now?.version ?? 'unknown');
    }
    await this.settle(secret.id, name);
    return { version: updated.currentVersionNumber ?? version + 1 };
  }

  /** Names of the live secrets whose name starts with `prefix`, sorted by name. */
  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let page: string | undefined;
    do {
      const request: vaultRequests.ListSecretsRequest = {
        compartmentId: this.where.compartmentId,
        vaultId: this.where.vaultId,
        sortBy: vaultRequests.ListSecretsRequest.SortBy.Name,
        sortOrder: vaultRequests.ListSecretsRequest.SortOrder.Asc,
        limit: this.pageSize,
        ...(page ? { page } : {}),
      };
      const res = await this.call('list', `${prefix}*`, () => this.vaults.listSecrets(request));
      for (const s of res.items) if (s.secretName.startsWith(prefix) && LIVE.has(s.lifecycleState)) names.push(s.secretName);
      page = res.opcNextPage;
    } while (page);
    return names;
  }

  /** Schedules the named secret's deletion (OCI's default: 30 days on). Idempotent: an absent or already scheduled secret is fine. */
  async remove(name: string): Promise<void> {
    const secret = await this.find(name, 'remove');
    if (!secret || GONE.has(secret.lifecycleState)) return;
    await this.settle(secret.id, name);
    try {
      await this.vaults.scheduleSecretDeletion({ secretId: secret.id, scheduleSecretDeletionDetails: {} });
    } catch (e) {
      if (statusOf(e) !== 409) fail(e, 'remove', name);
      const again = await this.find(name, 'remove');
      if (again && !GONE.has(again.lifecycleState)) fail(e, 'remove', name);
    }
  }

  private async readBundle(name: string, which: Omit<secretsRequests.GetSecretBundleRequest, 'secretId'>) {
    const secret = await this.find(name, 'read');
    if (!secret || !LIVE.has(secret.lifecycleState)) return undefined;
    return this.bundle(name, secret.id, which);
  }

  private async bundle(name: string, secretId: string, which: Omit<secretsRequests.GetSecretBundleRequest, 'secretId'>) {
    try {
      const { secretBundle } = await this.secrets.getSecretBundle({ secretId, ...which });
      const content = secretBundle.secretBundleContent;
      if (content?.contentType !== 'BASE64' || typeof content.content !== 'string') {
        throw ApplicationFailure.nonRetryable(`key store: read secret ${name}: its bundle has no BASE64 content`, 'KeyStoreRefused');
      }
      return { content: Buffer.from(content.content, 'base64'), version: secretBundle.versionNumber };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      if (e instanceof ApplicationFailure) throw e;
      fail(e, 'read', name);
    }
  }

  /** The vault's secret of that name in any state but deleted (names are unique per vault). */
  private async find(name: string, op: string): Promise<vaultModels.SecretSummary | undefined> {
    const res = await this.call(op, name, () => this.vaults.listSecrets({ compartmentId: this.where.compartmentId, vaultId: this.where.vaultId, name }));
    return res.items.find((s) => s.secretName === name && s.lifecycleState !== 'DELETED');
  }

  /** The created secret, or undefined when the name is taken (a concurrent writer, or our own create whose answer was lost). */
  private async create(name: string, content: Buffer, opcRetryToken: string): Promise<vaultModels.Secret | undefined> {
    const details: vaultModels.CreateSecretDetails = {
      compartmentId: this.where.compartmentId,
      vaultId: this.where.vaultId,
      keyId: this.where.masterKeyId,
      secretName: name,
      secretContent: base64Content(content),
    };
    try {
      return (await this.vaults.createSecret({ createSecretDetails: details, opcRetryToken })).secret;
    } catch (e) {
      if (statusOf(e) === 409) return undefined;
      fail(e, 'write', name);
    }
  }

  /** Waits until the secret is neither CREATING nor UPDATING: OCI refuses changes to it until then. */
  private async settle(secretId: string, name: string): Promise<void> {
    const deadline = Date.now() + this.settleTimeoutMs;
    for (;;) {
      const { secret } = await this.call('write', name, () => this.vaults.getSecret({ secretId }));
      if (secret.lifecycleState !== Creating && secret.lifecycleState !== Updating) return;
      if (Date.now() > deadline) throw ApplicationFailure.retryable(`key store: secret ${name} is still ${secret.lifecycleState} after ${this.settleTimeoutMs} ms`, 'KeyStoreUnavailable');
      await new Promise((r) => setTimeout(r, this.settlePollMs));
    }
  }

  private async call<T>(op: string, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      fail(e, op, name);
    }
  }
}

const base64Content = (content: Buffer): vaultModels.Base64SecretContentDetails => ({
  contentType: vaultModels.Base64SecretContentDetails.contentType,
  content: content.toString('base64'),
  stage: vaultModels.SecretContentDetails.Stage.Current,
});

function sameContent(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function conflict(name: string, expected: number, actual: number | string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`key store: write secret ${name}: expected version ${expected}, found ${actual} (a concurrent writer)`, 'KeyStoreConflict');
}

/**
 * OCI's refusals (4xx but conflicts and throttling) do not heal by retrying; the rest may. The message names
 * the operation, the secret and OCI's status and code only: never OCI's text, the request or its content.
 */
function fail(e: unknown, op: string, name: string): never {
  if (isNoAnswer(e)) throw ApplicationFailure.retryable(`key store: ${op} secret ${name}: no answer from OCI (${String(e.requestEndpoint)})`, 'KeyStoreUnavailable');
  const status = statusOf(e);
  if (status === undefined) throw ApplicationFailure.retryable(`key store: ${op} secret ${name}: ${e instanceof Error ? e.name : 'error'} (its message is withheld)`, 'KeyStoreUnavailable');
  const what = `key store: ${op} secret ${name}: OCI answered ${status} ${(e as OciError).serviceCode}`;
  if (status >= 400 && status < 500 && status !== 409 && status !== 429) throw ApplicationFailure.nonRetryable(what, 'KeyStoreRefused');
  throw ApplicationFailure.retryable(what, 'KeyStoreUnavailable');
}
