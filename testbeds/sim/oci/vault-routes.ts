// Routes of the Vault secrets management API (20180608: /secrets...) and the Secrets retrieval API
// (20190301: /secretbundles...) over the simulated vault, in the wire format of oci-vault and oci-secrets.
import type http from 'node:http';
import { OciApiError, type OciFaults } from './types.js';
import type { BundleSelector, SecretWire, SimVault } from './vault.js';
import { jsonObject, page, queryReader, type Send } from './wire.js';

export const VAULTS_API = '/20180608';
export const SECRETS_API = '/20190301';

export function routeVault(vault: SimVault, faults: OciFaults, req: http.IncomingMessage, url: URL, parts: string[], body: Buffer, send: Send): void {
  const method = req.method ?? 'GET';
  const q = url.searchParams;
  const { opt, required } = queryReader(q);
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const withEtag = (secret: SecretWire) => send(200, secret, { etag: vault.etagOf(secret.id) });
  const written = (secret: SecretWire) => {
    if (faults.lostSecretWriteResponses > 0) {
      faults.lostSecretWriteResponses--;
      throw new OciApiError(500, 'InternalServerError', 'Internal Server Error (injected fault: the secret was written, its response was lost).');
    }
    withEtag(secret);
  };
  const path = `${method} /${parts.slice(1).join('/')}`;
  const [, collection, id, action, actionName, ...rest] = parts;

  if (`/${parts[0]}` === VAULTS_API && collection === 'secrets' && rest.length === 0) {
    if (id === undefined && method === 'POST') {
      const { secret, replay } = vault.createSecret(jsonObject(body), header('opc-retry-token'), body);
      return replay ? withEtag(secret) : written(secret);
    }
    if (id === undefined && method === 'GET') {
      const filter = { compartmentId: required('compartmentId'), vaultId: opt('vaultId'), name: opt('name'), lifecycleState: opt('lifecycleState'), sortBy: opt('sortBy'), sortOrder: opt('sortOrder') };
      return page(vault.listSecrets(filter), q, send);
    }
    if (id !== undefined && action === undefined && method === 'GET') return withEtag(vault.getSecret(id));
    if (id !== undefined && action === undefined && method === 'PUT') return written(vault.updateSecret(id, jsonObject(body), header('if-match')));
    if (id !== undefined && action === 'actions' && actionName === 'scheduleDeletion' && method === 'POST') {
      vault.scheduleDeletion(id, jsonObject(body), header('if-match'));
      return send(200, undefined, { etag: vault.etagOf(id) });
    }
  }
  if (`/${parts[0]}` === SECRETS_API && collection === 'secretbundles' && actionName === undefined) {
    // GetSecretBundleByName is a POST without a body: its parameters are in the query.
    if (id === 'actions' && action === 'getByName' && method === 'POST') return send(200, vault.bundleByName(required('secretName'), required('vaultId'), selector(q)));
    if (id !== undefined && action === undefined && method === 'GET') {
      const bundle = vault.bundle(id, selector(q));
      return send(200, bundle, { etag: vault.etagOf(id) });
    }
  }
  throw new OciApiError(404, 'NotFound', `No such operation: ${path}`);
}

function selector(q: URLSearchParams): BundleSelector {
  const raw = q.get('versionNumber');
  const versionNumber = raw === null ? undefined : Number(raw);
  if (versionNumber !== undefined && (!Number.isInteger(versionNumber) || versionNumber < 1)) throw new OciApiError(400, 'InvalidParameter', `Invalid versionNumber ${raw}.`);
  return {
    ...(versionNumber !== undefined ? { versionNumber } : {}),
    ...(q.get('secretVersionName') ? { versionName: q.get('secretVersionName')! } : {}),
    ...(q.get('stage') ? { stage: q.get('stage')! } : {}),
  };
}
