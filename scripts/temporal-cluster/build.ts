/**
 * npm run temporal-cluster:build — build (or find cached) temporal-server and temporal-sql-tool for the `temporal-cluster`
 * test bed, from the Go module proxy, at the version pinned in testbeds/temporal-cluster/go/go.mod.
 * Exit 0 with the binaries' directory on the last line; exit 2 with what is missing.
 */
import { dirname } from 'node:path';
import { ensureTemporalServerBinaries, TemporalServerUnavailable } from '../../testbeds/temporal-cluster/build.js';

const quiet = process.argv.includes('--quiet');
try {
  const r = await ensureTemporalServerBinaries({ log: quiet ? undefined : (l) => console.error(l) });
  console.error(r.built ? `built temporal-server ${r.version} in ${r.seconds}s` : `cached: temporal-server ${r.version}`);
  console.log(dirname(r.binaries.server));
} catch (e) {
  if (e instanceof TemporalServerUnavailable) {
    console.error(`temporal-cluster build: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
