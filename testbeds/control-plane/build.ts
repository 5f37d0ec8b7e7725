/**
 * Real Kubernetes control-plane binaries for the `control-plane` test bed, built on demand from the
 * Go module proxy: kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes), etcd
 * (go.etcd.io/etcd/server/v3) and kwok (sigs.k8s.io/kwok), at the versions pinned in
 * testbeds/control-plane/go/go.mod. Nothing of those projects is committed: only that module.
 *
 * Cached under `<itinerant home>/control-plane/<versions>-<hash>/bin/`, keyed by the pinned versions
 * and a hash of go.mod, go.sum and our etcd entry point, so a bump rebuilds and an unchanged pin never
 * does. The build runs `nice -n 19` with `-p ITINERANT_GO_BUILD_P` (default 2) to stay friendly on small
 * machines; the first (cold) build takes about 5-6 minutes on 2 cores (3.9 GB of Go caches).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homePath, projectRoot } from '../../src/config/home.js';

export const CONTROL_PLANE_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'kwok'] as const;
export type ControlPlaneBinary = (typeof CONTROL_PLANE_BINARIES)[number];

export interface PinnedVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
  go: string;
}

export class ControlPlaneUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlPlaneUnavailable';
  }
}

/** testbeds/control-plane/go: our build module (go.mod, go.sum, cmd/etcd). */
export const buildModuleDir = (): string => join(projectRoot(), 'testbeds', 'control-plane', 'go');

function requireVersion(gomod: string, mod: string): string {
  const m = new RegExp(`^\\s*(?:require\\s+)?${mod.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+(v\\S+)`, 'm').exec(gomod);
  if (!m?.[1]) throw new Error(`testbeds/control-plane/go/go.mod does not require ${mod}`);
  return m[1];
}

export function pinnedVersions(): PinnedVersions {
  const gomod = readFileSync(join(buildModuleDir(), 'go.mod'), 'utf8');
  return {
    kubernetes: requireVersion(gomod, 'k8s.io/kubernetes'),
    etcd: requireVersion(gomod, 'go.etcd.io/etcd/server/v3'),
    kwok: requireVersion(gomod, 'sigs.k8s.io/kwok'),
    go: /^go\s+(\S+)/m.exec(gomod)?.[1] ?? '?',
  };
}

/** `<home>/control-plane/k8s-v1.36.3_etcd-v3.6.8_kwok-v0.8.0-<hash>` */
export function binariesKey(): string {
  const v = pinnedVersions();
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', join('cmd', 'etcd', 'main.go')]) h.update(readFileSync(join(buildModuleDir(), f)));
  return `k8s-${v.kubernetes}_etcd-${v.etcd}_kwok-${v.kwok}-${h.digest('hex').slice(0, 10)}`;
}

export const binariesDir = (): string => homePath('control-plane', binariesKey(), 'bin');

/** The cached binaries, or undefined when they are not built yet. `ITINERANT_CONTROL_PLANE_BIN` points elsewhere. */
export function findControlPlaneBinaries(): Record<ControlPlaneBinary, string> | undefined {
  const dir = process.env.ITINERANT_CONTROL_PLANE_BIN?.trim() || binariesDir();
  const out = {} as Record<ControlPlaneBinary, string>;
  for (const b of CONTROL_PLANE_BINARIES) {
    const p = join(dir, b);
    if (!existsSync(p)) return undefined;
    out[b] = p;
  }
  return out;
}

export interface BuildResult {
  binaries: Record<ControlPlaneBinary, string>;
  built: boolean;
  seconds: number;
  versions: PinnedVersions;
}

function goVersion(): string {
  const r = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new ControlPlaneUnavailable(
      'cannot build the control plane: the Go toolchain (`go`, >= 1.26) is not on PATH. Install Go (on these machines it is ' +
        'under /usr/local/go/bin), then run `npm run control-plane:build`. The sim test bed does not need it.',
    );
  }
  return r.stdout.trim();
}

/**
 * Build the binaries unless cached. Throws ControlPlaneUnavailable, with the go command's last output lines,
 * when Go is missing or the module proxy cannot be reached.
 */
export async function ensureControlPlaneBinaries(opts: { log?: (line: string) => void; parallelism?: number } = {}): Promise<BuildResult> {
  const log = opts.log ?? (() => {});
  const versions = pinnedVersions();
  const found = findControlPlaneBinaries();
  if (found) return { binaries: found, built: false, seconds: 0, versions };
  const gov = goVersion();
  const dir = binariesDir();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const p = String(opts.parallelism ?? (Number(process.env.ITINERANT_GO_BUILD_P) || 2));
  const [major, minor] = versions.kubernetes.replace(/^v/, '').split('.');
  const ldflags = [
    '-s',
    '-w',
    `-X k8s.io/component-base/version.gitVersion=${versions.kubernetes}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
    `-X k8s.io/client-go/pkg/version.gitVersion=${versions.kubernetes}`,
    `-X sigs.k8s.io/kwok/pkg/consts.Version=${versions.kwok}`,
  ].join(' ');
  const args = ['-n', '19', 'go', 'build', '-p', p, '-trimpath', `-ldflags=${ldflags}`, '-o', tmp + '/', 'tool', './cmd/etcd'];
  log(`building the control plane with ${gov} (kubernetes ${versions.kubernetes}, etcd ${versions.etcd}, kwok ${versions.kwok}) into ${dir}`);
  log(`$ nice ${args.slice(2).join(' ')}   (in testbeds/control-plane/go; a cold build takes about 5-6 minutes on 2 cores)`);
  const started = Date.now();
  const tail: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('nice', args, {
      cwd: buildModuleDir(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOFLAGS: [process.env.GOFLAGS ?? '', '-mod=readonly'].join(' ').trim() },
    });
    const onData = (b: Buffer) => {
      for (const line of b.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        log(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const unreachable = tail.some((l) => /dial tcp|proxy\.golang|no such host|connection refused|i\/o timeout|TLS handshake|403 Forbidden|404 Not Found/.test(l));
    throw new ControlPlaneUnavailable(
      `building the control plane failed (go build exited ${code} after ${seconds}s)` +
        (unreachable ? `; the Go module proxy (GOPROXY=${process.env.GOPROXY ?? 'default'}) could not serve a module` : '') +
        `:\n${tail.join('\n')}`,
    );
  }
  for (const b of CONTROL_PLANE_BINARIES) {
    if (!existsSync(join(tmp, b))) throw new ControlPlaneUnavailable(`the build produced no ${b} in ${tmp}`);
  }
  writeFileSync(join(tmp, 'build.json'), JSON.stringify({ versions, go: gov, seconds, builtAt: new Date().toISOString() }, null, 2) + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  const binaries = findControlPlaneBinaries();
  if (!binaries) throw new ControlPlaneUnavailable(`binaries missing from ${dir} after the build`);
  return { binaries, built: true, seconds, versions };
}
