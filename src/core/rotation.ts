// The rotateKeys runbook's input, progress and the activities it calls: pure, imported by the workflow.
import { z } from 'zod';
import { boundedDuration, parseObjectInput, type ParseResult } from './input.js';
import { formatDuration } from './duration.js';
import { KEY_PURPOSES, trustSet, type HeldKeyring, type KeyMeta, type Keyring, type KeyPurpose } from './keyring.js';
import type { RunbookProgress } from './runbook.js';

const DAY = 86_400_000;

export const rotateKeysInputSchema = z.strictObject({
  cluster: z.string().min(1),
  purpose: z.enum(KEY_PURPOSES),
  /** How long a new key is valid (its certificate's notAfter); at least three rotations' worth. */
  keyValidity: boundedDuration('90d', DAY, 3650 * DAY),
  /** Wait for an operator's approval between phases (answer `continue` or `abort`). */
  holdBetweenPhases: z.boolean().default(false),
  /** How long an approval may take; nobody answering holds the rotation where it is (safe) and fails the run. */
  approvalTimeout: boundedDuration('24h', 60_000, 30 * DAY),
  /** How long bringing every node to the new trust set may take. */
  spreadTimeout: boundedDuration('24h', 60_000, 30 * DAY),
  /**
   * How nodes are brought to the new trust set: `lane`, by each group's repaver lane within its budget (the lane
   * starts if none runs); `direct`, by repaveNode runs of the rotation's own, a group's maxSurge at a time (clusters without lanes).
   */
  spreadBy: z.enum(['lane', 'direct']).default('lane'),
  /** How long the control plane may take to run a new keyring version. */
  controlPlaneTimeout: boundedDuration('30m', 10_000, DAY),
  /** How long rewriting every Secret under the new key may take (secret-encryption). */
  reencryptTimeout: boundedDuration('2h', 10_000, DAY),
});
export type RotateKeysInput = z.input<typeof rotateKeysInputSchema>;
export type RotateKeysRequest = z.output<typeof rotateKeysInputSchema>;

export const parseRotateKeysInput = (input: unknown): ParseResult<RotateKeysRequest> =>
  parseObjectInput(rotateKeysInputSchema, input, '{"cluster": "sim-1", "purpose": "client-ca"}');

export type RotateKeysPhase = 'validating' | 'withdrawing-previous' | 'introducing' | 'publishing' | 'spreading' | 'promoting' | 'reencrypting' | 'withdrawing' | 'verifying';

export interface RotateKeysProgress extends RunbookProgress<RotateKeysPhase | 'compensating' | 'done' | 'refused' | 'failed' | 'aborted'> {
  purpose: KeyPurpose;
  keyring?: Keyring;
  /** Nodes not yet at the keyring version being spread. */
  nodesBehind?: string[];
  repaving?: string[];
  /** Node groups whose lanes were asked to bring their nodes to the new trust set (spreadBy lane). */
  lanes?: string[];
  secrets?: { rewritten: number; total?: number };
}

export interface RotateKeysResult {
  keyring: Keyring;
  introduced?: KeyMeta;
  withdrawn: string[];
  nodesRepaved: string[];
  secretsRewritten?: number;
}

export interface KeyringRef {
  cluster: string;
  purpose: KeyPurpose;
}
export interface OwnedKeyringRef extends KeyringRef {
  /** The rotation's workflow ID: one rotation per keyring. */
  owner: string;
}

export interface KeyringHolder {
  name: string;
  nodeGroup?: string;
  held?: HeldKeyring;
  /** The runbook that has claimed the node (a repave in flight, whoever started it). */
  claimedBy?: string;
}

export interface ReencryptCheckpoint {
  /** The list's continue token for the next page (undefined: start over). */
  continueToken?: string;
  rewritten: number;
}

export interface KeyringActivities {
  /** The ring as the key store holds it (undefined: none), without claiming it. */
  describeKeyring(a: KeyringRef): Promise<Keyring | undefined>;
  /** The ring, claimed for this rotation; refuses when there is none or another running rotation holds it. */
  claimKeyring(a: OwnedKeyringRef): Promise<Keyring>;
  releaseKeyring(a: OwnedKeyringRef): Promise<void>;
  /** Generate (or find, on a retry) key `keyId` in the key store and put it into the introducing slot. */
  introduceKey(a: OwnedKeyringRef & { keyId: string; validityMs: number }): Promise<Keyring>;
  promoteKey(a: OwnedKeyringRef & { keyId: string }): Promise<Keyring>;
  /** Withdraw a promoted-out key, after checking no node or control-plane member would be left without trust. */
  withdrawKey(a: OwnedKeyringRef & { keyId: string }): Promise<Keyring>;
  /** Heartbeats until every control-plane member reports running `version` of the ring (or later), or fails at the timeout. */
  waitForControlPlane(a: KeyringRef & { version: number; timeoutMs: number }): Promise<{ members: string[] }>;
  /** The cluster's nodes in node groups and the keyring each booted with. */
  keyringHolders(a: KeyringRef): Promise<KeyringHolder[]>;
  /** Rewrite every Secret so the API server stores it under the encryption key now first; heartbeats its checkpoint. */
  reencryptSecrets(a: { cluster: string; timeoutMs: number }): Promise<{ rewritten: number }>;
  /** Read etcd: Secrets not stored under this secret-encryption key (a few names, and how many). */
  secretsNotUnderKey(a: { cluster: string; keyId: string }): Promise<{ total: number; notUnder: number; examples: string[] }>;
}

/** The ID a rotation runs under: one per cluster and purpose. */
export const rotateKeysWorkflowId = (cluster: string, purpose: KeyPurpose) => `rotate-keys.${cluster}.${purpose}`;

/** A key ID made from the rotation's start (deterministic in the workflow): lower-case, a valid key name; the run ID's random tail tells apart runs started in the same second. */
export const newKeyId = (startedAt: Date, runId: string) =>
  `${startedAt.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', 't')}-${runId.replace(/[^a-z0-9]/gi, '').slice(-6).toLowerCase()}`;

/** Why a keyring is due for rotation now (undefined: not due): an unfinished rotation, an old active key, a trusted key about to expire. */
export function rotationDue(ring: Keyring, nowMs: number, policy: { rotateEvery: number; expiringWithin: number }): string | undefined {
  if (ring.introducing || ring.withdrawing) return `a rotation is unfinished (${ring.introducing ? `${ring.introducing.keyId} introducing` : `${ring.withdrawing!.keyId} to withdraw`})`;
  const age = nowMs - Date.parse(ring.active.createdAt);
  if (age >= policy.rotateEvery) return `active key ${ring.active.keyId} is ${formatDuration(age)} old (rotateEvery ${formatDuration(policy.rotateEvery)})`;
  const keys = [ring.active, ring.retiring].filter((k): k is KeyMeta => !!k);
  const expiring = keys.find((k) => Date.parse(k.notAfter) - nowMs <= policy.expiringWithin);
  if (expiring) return `key ${expiring.keyId} expires ${expiring.notAfter}, within ${formatDuration(policy.expiringWithin)}`;
  return undefined;
}

export interface CheckKeyringsInput {
  cluster: string;
  purposes: KeyPurpose[];
  rotateEvery: number;
  expiringWithin: number;
  holdBetweenPhases?: boolean;
}

export interface CheckKeyringsResult {
  started: { purpose: KeyPurpose; workflowId: string; why: string }[];
  notDue: KeyPurpose[];
  /** Purposes with no keyring, or already rotating. */
  skipped: { purpose: KeyPurpose; why: string }[];
}

export const keyringCheckScheduleId = (cluster: string) => `keyring-check.${cluster}`;
export const keyringCheckWorkflowId = (cluster: string) => `keyring-check.${cluster}`;
