// Captures the OpenAPI v3 documents the sim's API server serves (testbeds/sim/kube/openapi/), from the real
// kube-apiserver of the control-plane test bed: for each group/version the sim serves, the paths of the resources
// it serves and the schemas they reach. Run after changing testbeds/sim/kube/resources.ts:
//   npx tsx scripts/control-plane/build.ts --quiet && npx tsx scripts/capture-openapi.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startTestbed } from '../testbeds/index.js';
import { OPENAPI_DIR, openApiFile } from '../testbeds/sim/kube/openapi.js';
import { groupVersion, RESOURCES } from '../testbeds/sim/kube/resources.js';

type Doc = { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };

/** The schemas `from` refers to, transitively. */
function reachable(doc: Doc, from: unknown): Set<string> {
  const seen = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') {
        const name = x.replace('#/components/schemas/', '');
        if (!seen.has(name)) {
          seen.add(name);
          walk(doc.components.schemas[name]);
        }
      } else walk(x);
    }
  };
  walk(from);
  return seen;
}

const home = mkdtempSync(join(tmpdir(), 'itinerant-openapi-'));
const bed = await startTestbed({ home, backend: 'control-plane' });
try {
  const raw = (path: string) => execFileSync('kubectl', ['--kubeconfig', bed.adminKubeconfigPath!, 'get', '--raw', path], { maxBuffer: 1 << 28 }).toString();
  const gvs = new Map<string, string[]>();
  for (const r of RESOURCES) gvs.set(groupVersion(r), [...(gvs.get(groupVersion(r)) ?? []), r.plural]);
  for (const [gv, plurals] of gvs) {
    const prefix = gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`;
    const doc = JSON.parse(raw(`/openapi/v3${prefix}`)) as Doc;
    const served = (p: string) => plurals.some((pl) => new RegExp(`^${prefix}/(namespaces/\\{namespace\\}/)?${pl}(/|$)`).test(p)) || p === `${prefix}/`;
    doc.paths = Object.fromEntries(Object.entries(doc.paths).filter(([p]) => served(p)));
    const keep = reachable(doc, doc.paths);
    doc.components.schemas = Object.fromEntries(Object.entries(doc.components.schemas).filter(([name]) => keep.has(name)));
    writeFileSync(join(OPENAPI_DIR, openApiFile(gv)), gzipSync(JSON.stringify(doc), { level: 9 }));
    console.log(`${gv}: ${Object.keys(doc.paths).length} paths, ${keep.size} schemas`);
  }
} finally {
  await bed.stop();
  rmSync(home, { recursive: true, force: true });
}
