// The simulated OCI Vault of the cluster: secrets with versions, as the Vault secrets management API
// (20180608) and the Secrets retrieval API (20190301) show them. Secret content is kept as bytes in memory
// only: no error message, log line or summary carries it.
import { createHash, randomBytes } from 'node:crypto';
import { OciApiError } from './types.js';

export type SecretLifecycleState = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'PENDING_DELETION';
export type SecretStage = 'CURRENT' | 'PENDING' | 'LATEST' | 'PREVIOUS' | 'DEPRECATED';

interface SecretVersion {
  versionNumber: number;
  versionName?: string;
  content: Buffer;
  timeCreated: string;
}

interface StoredSecret {
  id: string;
  compartmentId: string;
  vaultId: string;
  keyId: string;
  secretName: string;
  description?: string;
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
  metadata?: Record<string, unknown>;
  lifecycleState: SecretLifecycleState;
  timeCreated: string;
  timeOfDeletion?: string;
  versions: SecretVersion[];
  currentVersionNumber: number;
  previousVersionNumber?: number;
  pendingVersionNumber?: number;
}

/** A Secret (or SecretSummary) as the API answers it: metadata, never content. */
export type SecretWire = Record<string, unknown> & { id: string };

export interface BundleSelector {
  versionNumber?: number;
  versionName?: string;
  stage?: string;
}

export interface SecretListFilter {
  compartmentId: string;
  vaultId?: string;
  name?: string;
  lifecycleState?: string;
  sortBy?: string;
  sortOrder?: string;
}

/** OCI's limit on a secret's content: 25 KB, base64-encoded. */
const MAX_CONTENT_BASE64 = 25 * 1024;
const DEFAULT_DELETION_DELAY_MS = 30 * 86_400_000;
const LIVE: ReadonlySet<SecretLifecycleState> = new Set(['ACTIVE', 'UPDATING']);

const notFound = () => new OciApiError(404, 'NotAuthorizedOrNotFound', 'Authorization failed or requested resource not found.');
const invalid = (message: string) => new OciApiError(400, 'InvalidParameter', message);

export interface SimVaultOptions {
  regionKey: string;
  compartmentId: string;
  /** CREATING → ACTIVE and UPDATING → ACTIVE take this long (OCI takes seconds). */
  stateDelayMs: number;
}

export class SimVault {
  /** The cluster's one vault and its master encryption key (the fleet file names them). */
  readonly vaultId: string;
  readonly masterKeyId: string;
  readonly compartmentId: string;
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly retryTokens = new Map<string, { secretId: string; requestHash: string }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: SimVaultOptions) {
    this.vaultId = `ocid1.vault.oc1.${opts.regionKey}.sim${randomBytes(12).toString('hex')}`;
    this.masterKeyId = `ocid1.key.oc1.${opts.regionKey}.sim${randomBytes(12).toString('hex')}`;
    this.compartmentId = opts.compartmentId;
  }

  /** In-process read for the rest of the sim: the current content of the vault's live secret of that name. */
  readCurrent(secretName: string): Buffer | undefined {
    const s = [...this.secrets.values()].find((x) => x.vaultId === this.vaultId && x.secretName === secretName && LIVE.has(x.lifecycleState));
    return s ? Buffer.from(this.version(s, s.currentVersionNumber).content) : undefined;
  }

  createSecret(details: Record<string, unknown>, retryToken: string | undefined, requestBody: Buffer): { secret: SecretWire; replay: boolean } {
    const requestHash = createHash('sha256').update(requestBody).digest('hex');
    const earlier = retryToken === undefined ? undefined : this.retryTokens.get(retryToken);
    if (earlier) {
      if (earlier.requestHash !== requestHash) throw new OciApiError(409, 'Conflict', 'The opc-retry-token was used for a different request.');
      return { secret: this.wire(this.get(earlier.secretId)), replay: true };
    }
    const vaultId = requiredString(details, 'vaultId');
    const compartmentId = requiredString(details, 'compartmentId');
    const keyId = requiredString(details, 'keyId');
    const secretName = requiredString(details, 'secretName');
    if (vaultId !== this.vaultId) throw notFound();
    if (keyId !== this.masterKeyId) throw invalid(`keyId ${keyId} is not a master encryption key of vault ${vaultId}.`);
    if (secretName.length > 255 || /[\u0000-\u001f]/.test(secretName)) throw invalid('secretName must be 1 to 255 printable characters.');
    if (!details.secretContent) throw invalid('secretContent is required (secret generation is not simulated).');
    const content = parseContent(details.secretContent);
    if (content.stage === 'PENDING') throw invalid('The first version of a secret must be CURRENT.');
    if ([...this.secrets.values()].some((s) => s.vaultId === vaultId && s.secretName === secretName)) {
      throw new OciApiError(409, 'Conflict', `A secret named ${secretName} already exists in vault ${vaultId}.`);
    }
    const now = new Date().toISOString();
    const secret: StoredSecret = {
      id: `ocid1.vaultsecret.oc1.${this.opts.regionKey}.sim${randomBytes(12).toString('hex')}`,
      compartmentId,
      vaultId,
      keyId,
      secretName,
      ...(typeof details.description === 'string' ? { description: details.description } : {}),
      freeformTags: stringRecord(details.freeformTags, 'freeformTags') as Record<string, string>,
      definedTags: (details.definedTags ?? {}) as Record<string, Record<string, unknown>>,
      ...(isObject(details.metadata) ? { metadata: details.metadata } : {}),
      lifecycleState: 'CREATING',
      timeCreated: now,
      versions: [{ versionNumber: 1, ...(content.name ? { versionName: content.name } : {}), content: content.bytes, timeCreated: now }],
      currentVersionNumber: 1,
    };
    this.secrets.set(secret.id, secret);
    if (retryToken !== undefined) this.retryTokens.set(retryToken, { secretId: secret.id, requestHash });
    this.settle(secret);
    return { secret: this.wire(secret), replay: false };
  }

  getSecret(id: string): SecretWire {
    return this.wire(this.get(id));
  }

  etagOf(id: string): string {
    const s = this.get(id);
    return createHash('sha256').update(`${s.id}:${s.lifecycleState}:${s.versions.length}:${s.currentVersionNumber}:${s.pendingVersionNumber ?? ''}`).digest('hex').slice(0, 32);
  }

  listSecrets(f: SecretListFilter): SecretWire[] {
    const items = [...this.secrets.values()].filter(
      (s) =>
        s.compartmentId === f.compartmentId &&
        (f.vaultId === undefined || s.vaultId === f.vaultId) &&
        (f.name === undefined || s.secretName === f.name) &&
        (f.lifecycleState === undefined || s.lifecycleState === f.lifecycleState),
    );
    const byName = f.sortBy === 'NAME';
    if (f.sortBy !== undefined && !byName && f.sortBy !== 'TIMECREATED') throw invalid(`Invalid sortBy ${f.sortBy}; expected TIMECREATED or NAME.`);
    if (f.sortOrder !== undefined && f.sortOrder !== 'ASC' && f.sortOrder !== 'DESC') throw invalid(`Invalid sortOrder ${f.sortOrder}; expected ASC or DESC.`);
    const descending = f.sortOrder === undefined ? !byName : f.sortOrder === 'DESC';
    items.sort((a, b) => (byName ? a.secretName.localeCompare(b.secretName) : a.timeCreated.localeCompare(b.timeCreated)) || a.id.localeCompare(b.id));
    if (descending) items.reverse();
    return items.map((s) => this.wire(s));
  }

  /** New content makes a new version (CURRENT unless its stage says PENDING); currentVersionNumber promotes one. */
  updateSecret(id: string, details: Record<string, unknown>, ifMatch: string | undefined): SecretWire {
    const s = this.changeable(id, ifMatch);
    if (details.secretContent !== undefined && details.currentVersionNumber !== undefined) throw invalid('secretContent and currentVersionNumber cannot be updated at the same time.');
    if (details.secretContent !== undefined) {
      const content = parseContent(details.secretContent);
      if (content.name && s.versions.some((v) => v.versionName === content.name)) throw new OciApiError(409, 'Conflict', `Secret ${id} already has a version named ${content.name}.`);
      const versionNumber = s.versions.length + 1;
      s.versions.push({ versionNumber, ...(content.name ? { versionName: content.name } : {}), content: content.bytes, timeCreated: new Date().toISOString() });
      if (content.stage === 'PENDING') s.pendingVersionNumber = versionNumber;
      else this.promote(s, versionNumber);
    } else if (details.currentVersionNumber !== undefined) {
      const n = details.currentVersionNumber;
      if (typeof n !== 'number' || !s.versions.some((v) => v.versionNumber === n)) throw invalid(`Secret ${id} has no version ${String(n)}.`);
      if (n !== s.currentVersionNumber) this.promote(s, n);
    }
    if (typeof details.description === 'string') s.description = details.description;
    if (details.freeformTags !== undefined) s.freeformTags = stringRecord(details.freeformTags, 'freeformTags') as Record<string, string>;
    s.lifecycleState = 'UPDATING';
    this.settle(s);
    return this.wire(s);
  }

  scheduleDeletion(id: string, details: Record<string, unknown>, ifMatch: string | undefined): void {
    const s = this.changeable(id, ifMatch);
    const when = details.timeOfDeletion === undefined ? Date.now() + DEFAULT_DELETION_DELAY_MS : Date.parse(String(details.timeOfDeletion));
    if (Number.isNaN(when) || when <= Date.now()) throw invalid('timeOfDeletion must be a future RFC 3339 time.');
    s.lifecycleState = 'PENDING_DELETION';
    s.timeOfDeletion = new Date(when).toISOString();
  }

  bundle(id: string, sel: BundleSelector): object {
    return this.bundleOf(this.get(id), sel);
  }

  bundleByName(secretName: string, vaultId: string, sel: BundleSelector): object {
    const s = [...this.secrets.values()].find((x) => x.vaultId === vaultId && x.secretName === secretName);
    if (!s) throw notFound();
    return this.bundleOf(s, sel);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private bundleOf(s: StoredSecret, sel: BundleSelector): object {
    let v: SecretVersion | undefined;
    if (sel.versionNumber !== undefined) v = s.versions.find((x) => x.versionNumber === sel.versionNumber);
    else if (sel.versionName !== undefined) v = s.versions.find((x) => x.versionName === sel.versionName);
    else {
      const stage = sel.stage ?? 'CURRENT';
      if (!['CURRENT', 'PENDING', 'LATEST', 'PREVIOUS', 'DEPRECATED'].includes(stage)) throw invalid(`Invalid stage ${stage}.`);
      v = [...s.versions].reverse().find((x) => this.stagesOf(s, x.versionNumber).includes(stage as SecretStage));
    }
    if (!v) throw notFound();
    return {
      secretId: s.id,
      versionNumber: v.versionNumber,
      ...(v.versionName ? { versionName: v.versionName } : {}),
      timeCreated: v.timeCreated,
      stages: this.stagesOf(s, v.versionNumber),
      secretBundleContent: { contentType: 'BASE64', content: v.content.toString('base64') },
      ...(s.timeOfDeletion ? { timeOfDeletion: s.timeOfDeletion } : {}),
      ...(s.metadata ? { metadata: s.metadata } : {}),
    };
  }

  private stagesOf(s: StoredSecret, n: number): SecretStage[] {
    const stages: SecretStage[] = [];
    if (n === s.currentVersionNumber) stages.push('CURRENT');
    if (n === s.pendingVersionNumber) stages.push('PENDING');
    if (n === s.versions.length) stages.push('LATEST');
    if (n === s.previousVersionNumber) stages.push('PREVIOUS');
    if (!stages.some((x) => x !== 'LATEST')) stages.push('DEPRECATED');
    return stages;
  }

  private promote(s: StoredSecret, n: number): void {
    s.previousVersionNumber = s.currentVersionNumber;
    s.currentVersionNumber = n;
    if (s.pendingVersionNumber === n) delete s.pendingVersionNumber;
  }

  private changeable(id: string, ifMatch: string | undefined): StoredSecret {
    const s = this.get(id);
    if (ifMatch !== undefined && ifMatch !== this.etagOf(id)) throw new OciApiError(412, 'NoEtagMatch', 'The resource has changed: its etag does not match the if-match header.');
    if (s.lifecycleState !== 'ACTIVE') throw new OciApiError(409, 'IncorrectState', `Secret ${id} is ${s.lifecycleState}; it can change only when ACTIVE.`);
    return s;
  }

  /** CREATING or UPDATING → ACTIVE after the configured delay. */
  private settle(s: StoredSecret): void {
    if (this.opts.stateDelayMs <= 0) {
      s.lifecycleState = 'ACTIVE';
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (s.lifecycleState === 'CREATING' || s.lifecycleState === 'UPDATING') s.lifecycleState = 'ACTIVE';
    }, this.opts.stateDelayMs);
    this.timers.add(t);
  }

  private get(id: string): StoredSecret {
    const s = this.secrets.get(id);
    if (!s) throw notFound();
    return s;
  }

  private version(s: StoredSecret, n: number): SecretVersion {
    return s.versions.find((v) => v.versionNumber === n)!;
  }

  private wire(s: StoredSecret): SecretWire {
    return {
      id: s.id,
      compartmentId: s.compartmentId,
      vaultId: s.vaultId,
      keyId: s.keyId,
      secretName: s.secretName,
      ...(s.description !== undefined ? { description: s.description } : {}),
      freeformTags: s.freeformTags,
      definedTags: s.definedTags,
      ...(s.metadata ? { metadata: s.metadata } : {}),
      lifecycleState: s.lifecycleState,
      currentVersionNumber: s.currentVersionNumber,
      timeCreated: s.timeCreated,
      ...(s.timeOfDeletion ? { timeOfDeletion: s.timeOfDeletion } : {}),
      isAutoGenerationEnabled: false,
      rotationStatus: 'NOT_ENABLED',
    };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function requiredString(details: Record<string, unknown>, field: string): string {
  const v = details[field];
  if (typeof v !== 'string' || v === '') throw invalid(`${field} is required and must be a non-empty string.`);
  return v;
}

function stringRecord(v: unknown, field: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) throw invalid(`${field} must be an object.`);
  return v;
}

/** secretContent {contentType: BASE64, content, name?, stage?}; messages name the field, never its value. */
function parseContent(v: unknown): { bytes: Buffer; name?: string; stage: 'CURRENT' | 'PENDING' } {
  if (!isObject(v)) throw invalid('secretContent must be an object.');
  if (v.contentType !== 'BASE64') throw invalid('secretContent.contentType must be BASE64.');
  const content = v.content;
  if (typeof content !== 'string' || content === '' || content.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) {
    throw invalid('secretContent.content must be non-empty base64.');
  }
  if (content.length > MAX_CONTENT_BASE64) throw invalid(`secretContent.content exceeds ${MAX_CONTENT_BASE64} base64 characters.`);
  const stage = v.stage ?? 'CURRENT';
  if (stage !== 'CURRENT' && stage !== 'PENDING') throw invalid('secretContent.stage must be CURRENT or PENDING.');
  if (v.name !== undefined && (typeof v.name !== 'string' || v.name === '')) throw invalid('secretContent.name must be a non-empty string.');
  return { bytes: Buffer.from(content, 'base64'), ...(typeof v.name === 'string' ? { name: v.name } : {}), stage };
}
