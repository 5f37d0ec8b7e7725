// What a rotation asks of a lane: every node of the group must hold at least keyring version v of a purpose.
// Nodes behind are due for the `keyring` reason (reasons.ts); the lane carries the requirements across runs.
import { KEY_PURPOSES, type KeyPurpose } from '../keyring.js';

export interface KeyringRequirement {
  version: number;
  /** The rotation (workflow ID) that asked. */
  by: string;
  /** ISO */
  at: string;
}

/** Per purpose, the least keyring version every node must hold. */
export type KeyringRequirements = Partial<Record<KeyPurpose, KeyringRequirement>>;

/** requireKeyring's argument: require `version` of `purpose`, or (`release`) drop a requirement up to `version`. */
export interface KeyringRequest {
  by: string;
  purpose: KeyPurpose;
  version: number;
  release?: boolean;
}

/** The request when it is well-formed (signals carry whatever a sender put in them). */
export function parseKeyringRequest(r: unknown): KeyringRequest | undefined {
  const v = r as Partial<KeyringRequest> | undefined;
  if (typeof v?.by !== 'string' || !v.by || !KEY_PURPOSES.includes(v.purpose as KeyPurpose)) return undefined;
  if (!Number.isInteger(v.version) || v.version! < 1 || (v.release !== undefined && typeof v.release !== 'boolean')) return undefined;
  return { by: v.by, purpose: v.purpose!, version: v.version!, ...(v.release ? { release: true } : {}) };
}

/**
 * Apply a request: a requirement only goes up (a repeated or older one changes nothing), and a release drops it
 * only up to the version it names (a later rotation's requirement stays). `change` says what changed, if anything.
 */
export function applyKeyringRequest(current: KeyringRequirements, r: KeyringRequest, at: string): { requirements: KeyringRequirements; change?: string } {
  const held = current[r.purpose];
  if (r.release) {
    if (!held || held.version > r.version) return { requirements: current };
    const { [r.purpose]: _released, ...rest } = current;
    return { requirements: rest, change: `${r.by} released the ${r.purpose} keyring v${held.version} requirement` };
  }
  if (held && held.version >= r.version) return { requirements: current };
  return { requirements: { ...current, [r.purpose]: { version: r.version, by: r.by, at } }, change: `${r.by} requires every node to hold ${r.purpose} keyring v${r.version} or later` };
}

/** Why a node is behind the requirements (it holds an older version, or reports none), or undefined when it is not. */
export function keyringsBehind(held: Partial<Record<KeyPurpose, number>> | undefined, required: KeyringRequirements): string[] | undefined {
  const why = KEY_PURPOSES.flatMap((p) => {
    const want = required[p];
    const has = held?.[p];
    if (!want || (has !== undefined && has >= want.version)) return [];
    return [`keyring: holds ${p} v${has ?? '(none reported)'}, ${want.by} requires v${want.version}`];
  });
  return why.length ? why : undefined;
}
