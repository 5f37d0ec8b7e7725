// The real control plane runs the keyrings: at each new keyring version its member renders the API server's
// key files from the key store (client CA bundle, service-account public keys and signing key, an
// EncryptionConfiguration with the active key first) and restarts kube-apiserver with them. The test bed's
// own CA stays in the client CA bundle beside the keyring's: it signs the components' certificates
// (controller-manager, scheduler, KWOK, the administrator), which a rotation does not reissue here.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { encryptionKeyName, trustSet, type Keyring, type KeyPurpose } from '../../src/core/keyring.js';
import { readKeyMaterial, type KeyringStore } from '../../src/activities/keyring.js';
import type { KeyMaterial } from '../../src/activities/key-material.js';
import type { ApiServerKeys, ControlPlane } from './control-plane.js';

type Rings = Partial<Record<KeyPurpose, Keyring>>;

/** The service-account key the test bed's API server starts with, as the keyring's first key. */
export function initialServiceAccountKey(cp: ControlPlane): KeyMaterial {
  const now = new Date();
  return {
    purpose: 'service-account',
    keyId: 'initial-sa',
    createdAt: now.toISOString(),
    notAfter: new Date(now.getTime() + 365 * 86_400_000).toISOString(),
    publicKeyPem: readFileSync(cp.pki.saPub, 'utf8'),
    privateKeyPem: readFileSync(cp.pki.saKey, 'utf8'),
  };
}

async function materials(store: KeyringStore, ring: Keyring): Promise<KeyMaterial[]> {
  return Promise.all(trustSet(ring).map((keyId) => readKeyMaterial(store, { cluster: ring.cluster, purpose: ring.purpose }, keyId)));
}

/** Write the API server's key files for these rings into `dir` (a fresh directory per change). */
export async function renderApiServerKeys(dir: string, store: KeyringStore, rings: Rings, testbedCa: string): Promise<ApiServerKeys> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  };
  const keys: ApiServerKeys = { clientCaFile: testbedCa, serviceAccountKeyFiles: [], serviceAccountSigningKeyFile: '' };
  if (rings['client-ca']) {
    const cas = (await materials(store, rings['client-ca'])).map((m) => (m.purpose === 'client-ca' ? m.certificatePem : ''));
    keys.clientCaFile = file('client-ca.crt', [readFileSync(testbedCa, 'utf8'), ...cas].join('\n'));
  }
  if (rings['service-account']) {
    const sa = await materials(store, rings['service-account']);
    keys.serviceAccountKeyFiles = sa.map((m, i) => file(`sa-${i}.pub`, m.purpose === 'service-account' ? m.publicKeyPem : ''));
    const active = sa[0]!; // trustSet lists the signer first
    keys.serviceAccountSigningKeyFile = file('sa-signing.key', active.purpose === 'service-account' ? active.privateKeyPem : '');
  }
  if (rings['secret-encryption']) {
    const enc = await materials(store, rings['secret-encryption']);
    const config = {
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [
        {
          resources: ['secrets'],
          // the active key first: it encrypts; the others (and identity, for Secrets written before) still decrypt
          providers: [{ aescbc: { keys: enc.map((m) => ({ name: encryptionKeyName(m.keyId), secret: m.purpose === 'secret-encryption' ? m.secret : '' })) } }, { identity: {} }],
        },
      ],
    };
    keys.encryptionProviderConfig = file('encryption-config.yaml', YAML.stringify(config));
  }
  return keys;
}

/** The member's `run`: render the files for the rings it is about to run and restart the API server with them. */
export function restartWithKeyrings(cp: ControlPlane, store: KeyringStore, dir: string, afterRestart?: (rings: Rings, changed?: KeyPurpose) => Promise<void>) {
  let generation = 0;
  return async (rings: Rings, changed?: KeyPurpose): Promise<void> => {
    const keys = await renderApiServerKeys(join(dir, `keys-${++generation}`), store, rings, cp.pki.ca.cert);
    await cp.restartApiServer(keys);
    await afterRestart?.(rings, changed);
  };
}
