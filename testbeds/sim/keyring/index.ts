// The test beds' keyrings: seeded into the sim's vault when the fleet starts (as a cluster's keys are when it
// is built), a control-plane member that runs them, and nodes that boot with them.
import { KEY_PURPOSES } from '../../../src/core/keyring.js';
import { seedKeyring, type KeyringStore } from '../../../src/activities/keyring.js';
import { generateKeyMaterial, type KeyMaterial } from '../../../src/activities/key-material.js';
import type { KeyPurpose } from '../../../src/core/keyring.js';
import type { SimVault } from '../oci/vault.js';
import { startControlPlaneMember, type ControlPlaneMember, type ControlPlaneMemberOptions } from './member.js';

export { startControlPlaneMember, reportConfigMap, type ControlPlaneMember } from './member.js';
export { startKeyringEffects, UNTRUSTED_CERTIFICATE_REASON, type KeyringEffects } from './sim-effects.js';

const YEAR = 365 * 86_400_000;

/**
 * The sim's vault read and written in-process (the test bed's own bootstrap: no requests counted, no
 * signing). The worker reaches the same vault only through the OCI SDK.
 */
export function inProcessStore(vault: SimVault): KeyringStore {
  return {
    async read(name) {
      const content = vault.readCurrent(name);
      return content ? { content, version: 0 } : undefined;
    },
    async write(name, content) {
      vault.createSecret(
        { vaultId: vault.vaultId, compartmentId: vault.compartmentId, keyId: vault.masterKeyId, secretName: name, secretContent: { contentType: 'BASE64', content: content.toString('base64') } },
        undefined,
        content,
      );
      // CREATING → ACTIVE takes the vault's state delay
      for (let i = 0; i < 200 && !vault.readCurrent(name); i++) await new Promise((r) => setTimeout(r, 10));
      return { version: 1 };
    },
  };
}

/** Seed a keyring per purpose (an active key each; `initial` supplies material made elsewhere, e.g. the control plane's own CA). */
export async function seedKeyrings(store: KeyringStore, cluster: string, initial: Partial<Record<KeyPurpose, KeyMaterial>> = {}): Promise<void> {
  const now = new Date();
  await Promise.all(
    KEY_PURPOSES.map(async (purpose) => {
      const material = initial[purpose] ?? (await generateKeyMaterial(purpose, { cluster, keyId: `initial-${purpose === 'client-ca' ? 'ca' : purpose === 'service-account' ? 'sa' : 'enc'}`, now, validityMs: YEAR }));
      await seedKeyring(store, { cluster, purpose }, material);
    }),
  );
}

/** Seed the keyrings and start the control-plane member that runs them. */
export async function startSimKeyrings(
  vault: SimVault,
  opts: Omit<ControlPlaneMemberOptions, 'store' | 'run'> & { initial?: Partial<Record<KeyPurpose, KeyMaterial>>; run?: (store: KeyringStore) => ControlPlaneMemberOptions['run'] },
): Promise<{ store: KeyringStore; member: ControlPlaneMember }> {
  const store = inProcessStore(vault);
  await seedKeyrings(store, opts.clusterName, opts.initial);
  const { initial: _initial, run, ...memberOptions } = opts;
  const runner = run?.(store);
  return { store, member: await startControlPlaneMember({ ...memberOptions, store, ...(runner ? { run: runner } : {}) }) };
}
