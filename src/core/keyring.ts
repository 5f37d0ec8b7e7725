// The three-slot keyring, per cluster and purpose: pure decisions, no key material.
//
// A key moves introducing → active → retiring → withdrawn. Between rotations a ring holds an active key
// and (after the first rotation) the retiring one it replaced. A rotation:
//   introduce N   (trust set N + A + R; A still signs)
//   bring nodes to that trust set (repaving), then promote: N signs, A retires, R is withdrawing
//   withdraw R    (trust set N + A)
// So a credential signed by A (a kubelet certificate from the last repave, a token) keeps working through
// the next rotation, until every node has been repaved with one signed by N.

export const KEY_PURPOSES = ['client-ca', 'service-account', 'secret-encryption'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/** What the history may carry about a key: never its material. */
export interface KeyMeta {
  keyId: string;
  createdAt: string;
  notAfter: string;
  /** sha256 of the public part (certificate DER, public key SPKI) or, for a symmetric key, of an HMAC of it. */
  fingerprint: string;
}

export interface Keyring {
  cluster: string;
  purpose: KeyPurpose;
  /** Bumped on every change; nodes and the control plane report the version they run. */
  version: number;
  introducing?: KeyMeta;
  active: KeyMeta;
  retiring?: KeyMeta;
  /** Promoted out of the trust set, not yet withdrawn from it. */
  withdrawing?: KeyMeta;
}

/** Key IDs the control plane and nodes trust at this version, the signer first. */
export function trustSet(ring: Keyring): string[] {
  return [ring.active, ring.introducing, ring.retiring, ring.withdrawing].filter((k): k is KeyMeta => !!k).map((k) => k.keyId);
}

export type RotationPhase = 'introduce' | 'spread' | 'promote' | 'reencrypt' | 'withdraw' | 'done';

/** Where a rotation that finds the ring like this resumes (a crash, a second run after an abort). */
export function resumePhase(ring: Keyring): 'introduce' | 'spread' | 'withdraw' {
  if (ring.introducing) return 'spread';
  if (ring.withdrawing) return 'withdraw';
  return 'introduce';
}

export class KeyringRefusal extends Error {}

/** Put a newly generated key into the introducing slot. Idempotent for the same key. */
export function introduce(ring: Keyring, key: KeyMeta): Keyring {
  if (ring.introducing?.keyId === key.keyId) return ring;
  if (ring.introducing) throw new KeyringRefusal(`${ring.purpose} keyring of ${ring.cluster} is already introducing ${ring.introducing.keyId}`);
  if (ring.withdrawing) throw new KeyringRefusal(`${ring.purpose} keyring of ${ring.cluster} has ${ring.withdrawing.keyId} still to withdraw`);
  if (trustSet(ring).includes(key.keyId)) throw new KeyringRefusal(`key ${key.keyId} is already in the ${ring.purpose} keyring of ${ring.cluster}`);
  return { ...ring, version: ring.version + 1, introducing: key };
}

/** The introducing key signs; the active one retires; the retiring one waits for withdrawal. Idempotent once done. */
export function promote(ring: Keyring, keyId: string): Keyring {
  if (ring.active.keyId === keyId && !ring.introducing) return ring;
  if (ring.introducing?.keyId !== keyId) throw new KeyringRefusal(`cannot promote ${keyId}: the ${ring.purpose} keyring of ${ring.cluster} is introducing ${ring.introducing?.keyId ?? 'nothing'}`);
  const { introducing: _introduced, ...rest } = ring;
  return {
    ...rest,
    version: ring.version + 1,
    active: ring.introducing,
    retiring: ring.active,
    ...(ring.retiring ? { withdrawing: ring.retiring } : {}),
  };
}

/** Drop the withdrawing key from the trust set. Idempotent once done. */
export function withdraw(ring: Keyring, keyId: string): Keyring {
  if (!trustSet(ring).includes(keyId)) return ring;
  if (ring.withdrawing?.keyId !== keyId) throw new KeyringRefusal(`cannot withdraw ${keyId} from the ${ring.purpose} keyring of ${ring.cluster}: only a key promoted out (withdrawing) may be withdrawn`);
  const { withdrawing: _withdrawn, ...rest } = ring;
  return { ...rest, version: ring.version + 1 };
}

/** The keyring a node (or a control-plane member) reports it was booted with. */
export interface HeldKeyring {
  version: number;
  /** Key IDs it trusts. */
  trusts: string[];
  /** The key its own credential is signed by (its kubelet certificate), when the purpose gives nodes one. */
  signedBy?: string;
}

/** Why withdrawing `keyId` now would leave a holder trusting no active key or with a credential nobody trusts; undefined when safe. */
export function withdrawalProblem(ring: Keyring, keyId: string, holders: { name: string; held?: HeldKeyring }[]): string | undefined {
  const untrusting = trustProblem(ring, holders);
  if (untrusting) return `${untrusting} after ${keyId} is withdrawn: repave first`;
  const signed = holders.filter((h) => h.held?.signedBy === keyId);
  if (signed.length) return `${names(signed)} ${signed.length === 1 ? 'holds a credential' : 'hold credentials'} signed by ${keyId}, which nobody would trust once it is withdrawn: repave first`;
  return undefined;
}

/** Who trusts no active key of the ring (never booted with it, or never reported); undefined when everybody does. */
export function trustProblem(ring: Keyring, holders: { name: string; held?: HeldKeyring }[]): string | undefined {
  const stale = holders.filter((h) => !h.held || !h.held.trusts.includes(ring.active.keyId));
  return stale.length ? `${names(stale)} would trust no active ${ring.purpose} key (${ring.active.keyId})` : undefined;
}

/** Holders that do not yet trust every key of the ring at `version` (those a spread must repave). */
export function holdersBehind(version: number, holders: { name: string; held?: HeldKeyring }[]): string[] {
  return holders.filter((h) => !h.held || h.held.version < version).map((h) => h.name);
}

const names = (hs: { name: string }[]) => (hs.length <= 3 ? hs.map((h) => h.name).join(', ') : `${hs.slice(0, 3).map((h) => h.name).join(', ')} and ${hs.length - 3} more`);

/** The EncryptionConfiguration key name for a secret-encryption key (the prefix etcd values carry). */
export const encryptionKeyName = (keyId: string) => `key-${keyId}`;

/** Names in the key store: the ring document (metadata only) and each key's material. */
export const keyringSecretName = (cluster: string, purpose: KeyPurpose) => `itinerant-${cluster}-${purpose}-keyring`;
export const keySecretName = (cluster: string, purpose: KeyPurpose, keyId: string) => `itinerant-${cluster}-${purpose}-${keyId}`;

/** Node annotation with the keyring a node booted with (JSON HeldKeyring). */
export const keyringAnnotation = (purpose: KeyPurpose) => `keyring.itinerant.dev/${purpose}`;

export function parseHeldKeyring(raw: string | undefined): HeldKeyring | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<HeldKeyring>;
    if (typeof v.version !== 'number' || !Array.isArray(v.trusts) || !v.trusts.every((t) => typeof t === 'string')) return undefined;
    return { version: v.version, trusts: v.trusts, ...(typeof v.signedBy === 'string' ? { signedBy: v.signedBy } : {}) };
  } catch {
    return undefined;
  }
}

/** What a node booted now holds of this ring. */
export function heldAtBoot(ring: Keyring): HeldKeyring {
  return { version: ring.version, trusts: trustSet(ring), ...(ring.purpose === 'client-ca' ? { signedBy: ring.active.keyId } : {}) };
}
