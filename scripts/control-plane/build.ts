/**
 * npm run control-plane:build — build (or find cached) the real control-plane binaries for the
 * `control-plane` test bed: kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok,
 * from the Go module proxy, at the versions pinned in testbeds/control-plane/go/go.mod.
 * Output: <itinerant home>/control-plane/<versions>-<hash>/bin/. Needs Go >= 1.26 on PATH.
 * Exit 0 with the binaries' directory on the last line; exit 2 with what is missing.
 */
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { ControlPlaneUnavailable, ensureControlPlaneBinaries } from '../../testbeds/control-plane/build.js';

const quiet = process.argv.includes('--quiet');
try {
  const r = await ensureControlPlaneBinaries({ log: quiet ? undefined : (l) => console.error(l) });
  const dir = dirname(r.binaries.etcd);
  const du = spawnSync('du', ['-sh', dir], { encoding: 'utf8' }).stdout.split('\t')[0];
  console.error(
    r.built
      ? `built kubernetes ${r.versions.kubernetes}, etcd ${r.versions.etcd}, kwok ${r.versions.kwok} in ${r.seconds}s (binaries ${du})`
      : `cached: kubernetes ${r.versions.kubernetes}, etcd ${r.versions.etcd}, kwok ${r.versions.kwok} (binaries ${du})`,
  );
  console.log(dir);
} catch (e) {
  if (e instanceof ControlPlaneUnavailable) {
    console.error(`control-plane build: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
