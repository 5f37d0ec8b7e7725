// The rotateKeys runbook's input, progress and the activities it calls: pure, imported by the workflow.
import { z } from 'zod';
import { boundedDuration, parseObjectInput, type ParseResult } from './input.js';
import { KEY_PURPOSES, type HeldKeyring, type KeyMeta, type Keyring, type KeyPurpose } from './keyring.js';
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
}

export interface ReencryptCheckpoint {
  /** The list's continue token for the next page (undefined: start over). */
  continueToken?: string;
  rewritten: number;
}

export interface KeyringActivities {
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

/** A key ID made from the rotation's start (deterministic in the workflow): lower-case, a valid key name. */
export const newKeyId = (startedAt: Date, runId: string) =>
  `${startedAt.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', 't')}-${runId.replace(/[^a-z0-9]/gi, '').slice(0, 6).toLowerCase()}`;
