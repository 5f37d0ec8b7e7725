// OpenAPI v3 (what kubectl apply validates against and kubectl explain reads): the documents of the real
// kube-apiserver, cut to the resources this sim serves (captured by scripts/capture-openapi.ts into openapi/).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { groupVersion, RESOURCES } from './resources.js';

export const OPENAPI_DIR = fileURLToPath(new URL('./openapi/', import.meta.url));
export const openApiFile = (gv: string) => `${gv.replace(/\//g, '__')}.json.gz`;
const pathOf = (gv: string) => (gv.includes('/') ? `apis/${gv}` : `api/${gv}`);

interface Served {
  body: Buffer;
  hash: string;
}
let documents: Map<string, Served> | undefined;

/** Every served group/version's document by its path ("api/v1", "apis/apps/v1"), read once. */
function load(): Map<string, Served> {
  if (documents) return documents;
  documents = new Map();
  for (const gv of new Set(RESOURCES.map(groupVersion))) {
    const body = gunzipSync(readFileSync(`${OPENAPI_DIR}${openApiFile(gv)}`));
    documents.set(pathOf(gv), { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() });
  }
  return documents;
}

/** GET /openapi/v3: where each group/version's document is, with the hash clients cache it under. */
export function openApiRoot(): Record<string, unknown> {
  return { paths: Object.fromEntries([...load()].map(([p, d]) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` }])) };
}

/** GET /openapi/v3/<path>: the document, or undefined (404). */
export function openApiDocument(path: string): Served | undefined {
  return load().get(path);
}

type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, Schema>; additionalProperties?: Schema | boolean; items?: Schema; type?: string; 'x-kubernetes-preserve-unknown-fields'?: boolean };
type Components = { components: { schemas: Record<string, Schema & { 'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[] }> } };
const parsed = new Map<string, Components>();

/**
 * The fields of `obj` its kind's schema does not know, as kube-apiserver's strict decoding names them
 * ("spec.replicaz"); fieldValidation=Strict refuses a body that has any, Warn warns.
 */
export function unknownFields(gv: string, kind: string, obj: unknown): string[] {
  let doc = parsed.get(gv);
  if (!doc) parsed.set(gv, (doc = JSON.parse(openApiDocument(pathOf(gv))!.body.toString('utf8')) as Components));
  const schemas = doc.components.schemas;
  const [group, version] = gv.includes('/') ? gv.split('/') : ['', gv];
  const root = Object.values(schemas).find((s) => s['x-kubernetes-group-version-kind']?.some((g) => g.group === group && g.version === version && g.kind === kind));
  const out: string[] = [];
  const resolve = (s: Schema | undefined): Schema | undefined => {
    if (!s) return undefined;
    if (s.$ref) return resolve(schemas[s.$ref.replace('#/components/schemas/', '')]);
    if (s.allOf?.length === 1) return resolve(s.allOf[0]);
    return s;
  };
  const walk = (value: unknown, schema: Schema | undefined, at: string): void => {
    const s = resolve(schema);
    if (!s || s['x-kubernetes-preserve-unknown-fields'] || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, s.items, `${at}[${i}]`));
    for (const [k, v] of Object.entries(value)) {
      const path = at ? `${at}.${k}` : k;
      if (s.properties?.[k]) walk(v, s.properties[k], path);
      else if (typeof s.additionalProperties === 'object') walk(v, s.additionalProperties, path);
      else if (s.properties) out.push(path);
    }
  };
  walk(obj, root, '');
  return out;
}
