// The rotateKeys steps: the keyring document and key material in the cluster's key store (OCI Vault), what
// nodes and the control plane report they run, Secrets rewritten through the API server, etcd read to check.
// Only key IDs, versions and fingerprints leave these functions; errors name secrets, never their content.
import type * as k8s from '@kubernetes/client-node';
import { activityInfo, ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import {
  introduce,
  keyringAnnotation,
  keyringSecretName,
  keySecretName,
  KeyringRefusal,
  parseHeldKeyring,
  promote,
  withdraw,
  withdrawalProblem,
  type HeldKeyring,
  type Keyring,
} from '../core/keyring.js';
import { ANNOTATION_OWNER, LABEL_CLUSTER, LABEL_NODE_GROUP } from '../core/labels.js';
import type { KeyringActivities, KeyringHolder, KeyringRef, OwnedKeyringRef, ReencryptCheckpoint } from '../core/rotation.js';
import { FailureType } from '../core/runbook.js';
import type { ClientRegistry } from './clients.js';
import { generateKeyMaterial, keyMetaOf, parseMaterial, serializeMaterial, type KeyMaterial } from './key-material.js';
import { isConflict, isNotFound, messageOf, rethrow, statusOf } from './kube-api.js';
import { secretsStoredUnder } from './etcd.js';
import type { KeyStore } from './key-store.js';

/** What a keyring needs of the key store (OCI Vault secrets by name, with versions). */
export type KeyringStore = Pick<KeyStore, 'read' | 'write'>;

/** The keyring document: the ring and the rotation that holds it. No key material. */
export interface KeyringDocument {
  ring: Keyring;
  owner?: string;
}

/** Where control-plane members report the keyring each runs: one entry `<member>.<purpose>` (JSON HeldKeyring). */
export const CONTROL_PLANE_REPORT = { namespace: 'kube-system', name: 'itinerant-control-plane-keyring' } as const;

export async function readKeyringDocument(store: KeyringStore, ref: KeyringRef): Promise<{ doc: KeyringDocument; version: number } | undefined> {
  const found = await store.read(keyringSecretName(ref.cluster, ref.purpose));
  if (!found) return undefined;
  return { doc: JSON.parse(found.content.toString('utf8')) as KeyringDocument, version: found.version };
}

async function writeKeyringDocument(store: KeyringStore, ref: KeyringRef, doc: KeyringDocument, expectVersion?: number): Promise<void> {
  await store.write(keyringSecretName(ref.cluster, ref.purpose), Buffer.from(JSON.stringify(doc), 'utf8'), expectVersion === undefined ? {} : { expectVersion });
}

/** Start a cluster's keyring with one active key (cluster creation; the test beds seed theirs so). */
export async function seedKeyring(store: KeyringStore, ref: KeyringRef, material: KeyMaterial): Promise<Keyring> {
  const existing = await readKeyringDocument(store, ref);
  if (existing) return existing.doc.ring;
  await store.write(keySecretName(ref.cluster, ref.purpose, material.keyId), serializeMaterial(material));
  const ring: Keyring = { cluster: ref.cluster, purpose: ref.purpose, version: 1, active: keyMetaOf(material) };
  await writeKeyringDocument(store, ref, { ring });
  return ring;
}

/** The material of a key of the ring (the control plane's bootstrap reads it so; never for the workflow). */
export async function readKeyMaterial(store: KeyringStore, ref: KeyringRef, keyId: string): Promise<KeyMaterial> {
  const found = await store.read(keySecretName(ref.cluster, ref.purpose, keyId));
  if (!found) throw new Error(`key ${keyId} of the ${ref.purpose} keyring of ${ref.cluster} is not in the key store`);
  return parseMaterial(found.content, { purpose: ref.purpose, keyId });
}

export interface KeyringDeps {
  clients: ClientRegistry;
  keyStore: (cluster: string) => KeyringStore;
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
  /** How often waits look again (tests shorten it). */
  pollMs?: number;
}

const refused = (message: string) => ApplicationFailure.nonRetryable(message, FailureType.Refused);

/**
 * The control plane restarts at every phase of a rotation, and a member just started may answer 401/403 for
 * a moment (its authorizer's caches still filling): retried like a 5xx, not taken as final. A permission that
 * is really missing fails once the activity's retries run out, with the API's message.
 */
function readFailed(e: unknown, what: string): never {
  const code = statusOf(e);
  if (code === 401 || code === 403) throw ApplicationFailure.retryable(`${what}: Kubernetes API answered ${code}: ${messageOf(e)}`, 'KubernetesApiRefused');
  return rethrow(e, what);
}

export function keyringActivities({ clients, keyStore, isWorkflowRunning, pollMs = 2000 }: KeyringDeps): KeyringActivities {
  async function ownedDocument(ref: OwnedKeyringRef) {
    const found = await readKeyringDocument(keyStore(ref.cluster), ref);
    if (!found) throw refused(`cluster ${ref.cluster} has no ${ref.purpose} keyring in its key store: it is seeded when the cluster is built`);
    if (found.doc.owner !== ref.owner) throw ApplicationFailure.nonRetryable(`the ${ref.purpose} keyring of ${ref.cluster} is held by ${found.doc.owner ?? 'nobody'}, not ${ref.owner}`, 'KeyringNotClaimed');
    return found;
  }

  /** Apply a pure step to the owned ring; written only when it changed (a retry finds it done). */
  async function change(ref: OwnedKeyringRef, step: (ring: Keyring) => Keyring): Promise<Keyring> {
    const { doc, version } = await ownedDocument(ref);
    let next: Keyring;
    try {
      next = step(doc.ring);
    } catch (e) {
      if (e instanceof KeyringRefusal) throw ApplicationFailure.nonRetryable(e.message, 'KeyringRefusal');
      throw e;
    }
    if (next !== doc.ring) await writeKeyringDocument(keyStore(ref.cluster), ref, { ...doc, ring: next }, version);
    return next;
  }

  async function holders(ref: KeyringRef): Promise<KeyringHolder[]> {
    const { core } = clients.for(ref.cluster);
    // Every node, control-plane nodes too: those hold what their member runs (they are not repaved by a spread).
    const nodes = await core.listNode().catch((e: unknown) => readFailed(e, 'list nodes'));
    return nodes.items
      .filter((n) => (n.metadata?.labels?.[LABEL_CLUSTER] ?? ref.cluster) === ref.cluster)
      .map((n) => {
        const held = parseHeldKeyring(n.metadata?.annotations?.[keyringAnnotation(ref.purpose)]);
        const nodeGroup = n.metadata?.labels?.[LABEL_NODE_GROUP];
        const claimedBy = n.metadata?.annotations?.[ANNOTATION_OWNER];
        return { name: n.metadata!.name!, ...(nodeGroup ? { nodeGroup } : {}), ...(held ? { held } : {}), ...(claimedBy ? { claimedBy } : {}) };
      });
  }

  async function controlPlaneMembers(ref: KeyringRef): Promise<{ name: string; held?: HeldKeyring }[]> {
    const { core } = clients.for(ref.cluster);
    let cm: k8s.V1ConfigMap;
    try {
      cm = await core.readNamespacedConfigMap({ namespace: CONTROL_PLANE_REPORT.namespace, name: CONTROL_PLANE_REPORT.name });
    } catch (e) {
      if (isNotFound(e)) return [];
      return readFailed(e, `read ${CONTROL_PLANE_REPORT.namespace}/${CONTROL_PLANE_REPORT.name}`);
    }
    const suffix = `.${ref.purpose}`;
    return Object.entries(cm.data ?? {})
      .filter(([k]) => k.endsWith(suffix))
      .map(([k, v]) => {
        const held = parseHeldKeyring(v);
        return { name: `control-plane member ${k.slice(0, -suffix.length)}`, ...(held ? { held } : {}) };
      });
  }

  return {
    describeKeyring: async (ref) => (await readKeyringDocument(keyStore(ref.cluster), ref))?.doc.ring,

    async claimKeyring(ref) {
      // before any change: a secret-encryption rotation must be able to check etcd at its end
      if (ref.purpose === 'secret-encryption' && !clients.clusterConfig(ref.cluster).etcd) {
        throw refused(`cluster ${ref.cluster} has no etcd in the fleet configuration: a secret-encryption rotation reads etcd to check every Secret is stored under the new key`);
      }
      const store = keyStore(ref.cluster);
      const found = await readKeyringDocument(store, ref);
      if (!found) throw refused(`cluster ${ref.cluster} has no ${ref.purpose} keyring in its key store: it is seeded when the cluster is built`);
      const { doc, version } = found;
      if (doc.owner === ref.owner) return doc.ring;
      if (doc.owner && (await isWorkflowRunning(doc.owner))) throw refused(`a rotation of the ${ref.purpose} keyring of ${ref.cluster} is already running: ${doc.owner}`);
      await writeKeyringDocument(store, ref, { ...doc, owner: ref.owner }, version);
      return doc.ring;
    },

    async releaseKeyring(ref) {
      const found = await readKeyringDocument(keyStore(ref.cluster), ref);
      if (!found || found.doc.owner !== ref.owner) return;
      const { owner: _released, ...doc } = found.doc;
      await writeKeyringDocument(keyStore(ref.cluster), ref, doc, found.version);
    },

    async introduceKey(ref) {
      await ownedDocument(ref);
      const store = keyStore(ref.cluster);
      const name = keySecretName(ref.cluster, ref.purpose, ref.keyId);
      const found = await store.read(name);
      if (!found) {
        const material = await generateKeyMaterial(ref.purpose, { cluster: ref.cluster, keyId: ref.keyId, now: new Date(), validityMs: ref.validityMs });
        // A retry after a lost answer finds the earlier attempt's key (read above, or as a name conflict the
        // key store reports retryable until that secret is ACTIVE): the key introduced is always the one read back.
        await store.write(name, serializeMaterial(material));
      }
      const stored = found ?? (await store.read(name));
      if (!stored) throw new Error(`key ${ref.keyId} was written to the key store and cannot be read back yet`);
      const material = parseMaterial(stored.content, { purpose: ref.purpose, keyId: ref.keyId });
      return change(ref, (ring) => introduce(ring, keyMetaOf(material)));
    },

    promoteKey: (ref) => change(ref, (ring) => promote(ring, ref.keyId)),

    async withdrawKey(ref) {
      const ring = (await ownedDocument(ref)).doc.ring;
      const problem = withdrawalProblem(ring, ref.keyId, [...(await holders(ref)), ...(await controlPlaneMembers(ref))]);
      if (problem) throw ApplicationFailure.nonRetryable(`will not withdraw ${ref.keyId}: ${problem}`, 'KeyringRefusal');
      return change(ref, (r) => withdraw(r, ref.keyId));
    },

    async waitForControlPlane({ cluster, purpose, version, timeoutMs }) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let members: { name: string; held?: HeldKeyring }[];
        try {
          members = await controlPlaneMembers({ cluster, purpose });
        } catch (e) {
          // restarting members refuse or drop requests for a moment: look again until the deadline
          if (Date.now() > deadline) throw e;
          heartbeat({ lastError: (e as Error).message });
          await sleep(pollMs);
          continue;
        }
        const behind = members.filter((m) => !m.held || m.held.version < version);
        heartbeat({ members: members.map((m) => `${m.name} v${m.held?.version ?? '?'}`) });
        if (members.length > 0 && behind.length === 0) return { members: members.map((m) => m.name) };
        if (Date.now() > deadline) {
          const seen = members.length ? members.map((m) => `${m.name} runs v${m.held?.version ?? '?'}`).join(', ') : `no member reports in ${CONTROL_PLANE_REPORT.namespace}/${CONTROL_PLANE_REPORT.name}`;
          throw ApplicationFailure.nonRetryable(`the control plane of ${cluster} did not run ${purpose} keyring v${version} within ${Math.round(timeoutMs / 1000)}s: ${seen}`, FailureType.TimedOut);
        }
        await sleep(pollMs);
      }
    },

    keyringHolders: holders,

    async reencryptSecrets({ cluster, timeoutMs }) {
      const { core } = clients.for(cluster);
      const deadline = Date.now() + timeoutMs;
      const from = activityInfo().heartbeatDetails as ReencryptCheckpoint | undefined;
      let cp: ReencryptCheckpoint = from ?? { rewritten: 0 };
      for (;;) {
        if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`rewrote ${cp.rewritten} Secrets of ${cluster}, not all, within ${Math.round(timeoutMs / 1000)}s`, FailureType.TimedOut);
        let page: k8s.V1SecretList;
        try {
          page = await core.listSecretForAllNamespaces({ limit: 50, ...(cp.continueToken ? { _continue: cp.continueToken } : {}) });
        } catch (e) {
          // An expired continue token (410): start the list again; rewriting a Secret twice is harmless.
          if (statusOf(e) === 410 && cp.continueToken) {
            cp = { rewritten: cp.rewritten };
            continue;
          }
          return rethrow(e, 'list Secrets');
        }
        for (const secret of page.items) {
          try {
            await core.replaceNamespacedSecret({ namespace: secret.metadata!.namespace!, name: secret.metadata!.name!, body: secret });
            cp.rewritten++;
          } catch (e) {
            // Changed or deleted since the list: whoever wrote it wrote it under the new key.
            if (!isConflict(e) && !isNotFound(e)) return rethrow(e, `rewrite Secret ${secret.metadata?.namespace}/${secret.metadata?.name}: ${messageOf(e)}`);
          }
        }
        const next = page.metadata?._continue;
        cp = { rewritten: cp.rewritten, ...(next ? { continueToken: next } : {}) };
        heartbeat(cp);
        if (!next) return { rewritten: cp.rewritten };
      }
    },

    async secretsNotUnderKey({ cluster, keyId }) {
      const etcd = clients.clusterConfig(cluster).etcd;
      if (!etcd) throw refused(`cluster ${cluster} has no etcd in the fleet configuration: the secret-encryption rotation cannot check what etcd stores`);
      return secretsStoredUnder(etcd, keyId);
    },
  };
}
