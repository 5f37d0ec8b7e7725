/**
 * docker-compose.yml: valid against the official Compose Specification schema
 * (from the Go module github.com/compose-spec/compose-go/v2, fetched by
 * scripts/compose-schema.ts), and wired together correctly.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPOSE_SCHEMA_FETCH_COMMAND, COMPOSE_SCHEMA_PATH, COMPOSE_GO_MODULE, COMPOSE_GO_VERSION } from '../../scripts/compose-schema.js';
import { projectRoot } from '../../src/config/home.js';
import { TEMPORAL_CONNECTION_VARIABLES } from '../../src/config/temporal-connection.js';
import { ensureTemporalCli, getFreePort, itinerantSearchAttributes } from '../../testbeds/temporal/temporal-cli.js';
import { composeJobScript, parseEnvFile, sharedClusterSettings, TEMPORAL_SERVICES } from '../../testbeds/temporal-cluster/cluster.js';

/** The compose services that run the Temporal server, one role each (the frontend is `temporal`, what clients reach). */
const TEMPORAL_SERVICE_NAMES = ['temporal', 'temporal-history', 'temporal-matching', 'temporal-worker'];

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on .default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;

type Json = Record<string, unknown>;
interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: (string | number | { target: number | string; published?: number | string; host_ip?: string; protocol?: string })[];
  volumes?: (string | { type?: string; source?: string; target: string; read_only?: boolean })[];
  networks?: string[] | Record<string, unknown>;
  command?: string | string[];
  entrypoint?: string | string[];
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
}

const composePath = join(projectRoot(), 'docker-compose.yml');
// merge: compose resolves YAML merge keys (<<), which the file uses for what the four Temporal services share.
const raw = parseYaml(readFileSync(composePath, 'utf8'), { merge: true }) as unknown;
const compose = raw as ComposeFile;
const services = compose.services;

function env(service: Service): Record<string, string> {
  const e = service.environment;
  if (e === undefined) return {};
  if (Array.isArray(e)) {
    return Object.fromEntries(
      e.map((kv) => {
        const i = kv.indexOf('=');
        return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** A service's environment as its container sees it: its env_file(s), then its own environment over them. */
function envWithFiles(service: Service): Record<string, string> {
  const files = (service as Json)['env_file'] as string[] | undefined;
  const fromFiles = (files ?? []).map((f) => parseEnvFile(readFileSync(join(projectRoot(), f), 'utf8')));
  return Object.assign({}, ...fromFiles, env(service)) as Record<string, string>;
}

function svc(name: string): Service {
  const s = services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

function dependsOn(service: Service): string[] {
  const d = service.depends_on;
  if (d === undefined) return [];
  return Array.isArray(d) ? d : Object.keys(d);
}

function splitHostPort(address: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9_.-]+):(\d+)$/.exec(address);
  if (m === null) throw new Error(`not host:port: ${address}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * Compose's interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`, with `env` as the shell's environment
 * (`{}`: what the file does by default). Other forms (`:?`, `:+`) are refused, so that a test never passes on text it did not read.
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$\{[^}]*\}/g, (match, name?: string, op?: string, fallback?: string) => {
    if (match === '$$') return '$';
    if (name === undefined) throw new Error(`interpolation form not handled by this test: ${match}`);
    const value = env[name];
    if (op === ':-') return value ? value : (fallback ?? '');
    if (op === '-') return value ?? fallback ?? '';
    return value ?? '';
  });
}

/** Host-side published ports, as "ip:port/proto", interpolated with `env`. Handles short and long syntax (no ranges needed here). */
function publishedPorts(service: Service, env: Record<string, string> = {}): { key: string; ip: string; target: number }[] {
  const out: { key: string; ip: string; target: number }[] = [];
  for (const p of service.ports ?? []) {
    if (typeof p === 'object') {
      if (p.published === undefined) continue;
      const ip = p.host_ip === undefined ? '0.0.0.0' : interpolate(p.host_ip, env) || '0.0.0.0';
      out.push({ key: `${ip}:${interpolate(String(p.published), env)}/${p.protocol ?? 'tcp'}`, ip, target: Number(p.target) });
      continue;
    }
    const [spec, proto = 'tcp'] = interpolate(String(p), env).split('/');
    const parts = spec!.split(':');
    if (parts.length === 1) continue; // container port only: ephemeral host port
    const target = Number(parts.at(-1));
    const published = parts.at(-2)!;
    const ip = parts.length === 3 && parts[0] ? parts[0] : '0.0.0.0';
    out.push({ key: `${ip}:${published}/${proto}`, ip, target });
  }
  return out;
}

/** The gRPC port the temporal server container listens on (auto-setup default 7233). */
function temporalListenPort(): number {
  return Number(env(svc('temporal')).FRONTEND_GRPC_PORT ?? 7233);
}

describe('docker-compose.yml against the Compose Specification schema', () => {
  let validate: (data: unknown) => { ok: boolean; errors: string };

  beforeAll(() => {
    if (!existsSync(COMPOSE_SCHEMA_PATH)) {
      throw new Error(
        `The Compose Specification schema (${COMPOSE_GO_MODULE}@${COMPOSE_GO_VERSION}, schema/compose-spec.json) is not cached at ` +
          `${COMPOSE_SCHEMA_PATH}. Fetch it with \`${COMPOSE_SCHEMA_FETCH_COMMAND}\` (needs the \`go\` command; npm test's global setup, test/global-setup.ts, does this).`,
      );
    }
    const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA_PATH, 'utf8')) as Json;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const fn = ajv.compile(schema);
    validate = (data) => {
      const ok = fn(data);
      return { ok, errors: ajv.errorsText(fn.errors, { separator: '\n' }) };
    };
  });

  it('is valid', () => {
    const r = validate(raw);
    expect(r.errors).toBe('No errors');
    expect(r.ok).toBe(true);
  });

  it('would catch mistakes (the schema is really applied)', () => {
    const typo = structuredClone(raw) as ComposeFile & Json;
    (typo.services['temporal'] as Json)['dependz_on'] = ['postgresql'];
    const r1 = validate(typo);
    expect(r1.ok).toBe(false);
    expect(r1.errors).toMatch(/services\/temporal must NOT have (unevaluated|additional) properties/);

    const badCondition = structuredClone(raw) as ComposeFile & Json;
    (badCondition.services['temporal'] as Json)['depends_on'] = { postgresql: { condition: 'service_ready' } };
    const r2 = validate(badCondition);
    expect(r2.ok).toBe(false);
    expect(r2.errors).toMatch(/services\/temporal\/depends_on/);
  });
});

describe('docker-compose.yml wiring', () => {
  it('has the expected services', () => {
    for (const name of ['postgresql', 'temporal-schema', ...TEMPORAL_SERVICE_NAMES, 'temporal-ui', 'temporal-search-attributes', 'itinerant-worker', 'itinerant-codec-server']) {
      expect(services, name).toHaveProperty(name);
    }
  });

  it('every depends_on target is a service', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dep of dependsOn(service)) expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
    }
  });

  it('the schema job waits for a healthy postgresql, every Temporal service for the schema; the worker waits for temporal and the search attributes', () => {
    const pg = svc('postgresql');
    expect(pg.depends_on).toBeUndefined();
    expect((svc('postgresql') as Json)['healthcheck']).toBeDefined();
    expect(svc('temporal-schema').depends_on).toMatchObject({ postgresql: { condition: 'service_healthy' } });
    expect(svc('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
    for (const name of TEMPORAL_SERVICE_NAMES) {
      expect(svc(name).depends_on, name).toMatchObject({ 'temporal-schema': { condition: 'service_completed_successfully' } });
      expect(svc(name).image, name).toMatch(/^temporalio\/server:/);
    }
    expect(Object.values(services).map((s) => s.image ?? '')).not.toContainEqual(expect.stringMatching(/auto-setup/));
    const worker = svc('itinerant-worker');
    expect(dependsOn(worker)).toContain('temporal');
    expect(worker.depends_on).toMatchObject({ 'temporal-search-attributes': { condition: 'service_completed_successfully' } });
  });

  it('the worker, UI and admin tools reach temporal on the port it listens on', () => {
    const port = temporalListenPort();
    for (const name of ['itinerant-worker', 'temporal-ui', 'temporal-search-attributes', 'temporal-admin-tools']) {
      const address = env(svc(name)).TEMPORAL_ADDRESS;
      expect(address, `${name} TEMPORAL_ADDRESS`).toBeDefined();
      const hp = splitHostPort(address!);
      expect(hp.host, `${name} TEMPORAL_ADDRESS host`).toBe('temporal');
      expect(hp.port, `${name} TEMPORAL_ADDRESS port`).toBe(port);
      expect(dependsOn(svc(name)), `${name} depends_on`).toContain('temporal');
    }
    // Published to the host as 7233 too, so `temporal --address localhost:7233` works.
    expect(publishedPorts(svc('temporal')).map((p) => p.target)).toContain(port);
  });

  it('every Temporal service and the schema job have database settings that match the postgresql service', () => {
    const pg = env(svc('postgresql'));
    for (const name of ['temporal-schema', ...TEMPORAL_SERVICE_NAMES]) {
      const t = envWithFiles(svc(name));
      expect(['postgres12', 'postgres12_pgx'], name).toContain(t.DB);
      expect(t.POSTGRES_SEEDS, name).toBe('postgresql');
      expect(svc(t.POSTGRES_SEEDS!).image).toMatch(/^postgres:/);
      expect(t.POSTGRES_USER, name).toBe(pg.POSTGRES_USER);
      expect(t.POSTGRES_PWD, name).toBe(pg.POSTGRES_PASSWORD);
      expect(Number(t.DB_PORT ?? 5432), name).toBe(Number(pg.PGPORT ?? 5432));
    }
  });

  it('the Temporal services share their settings with the temporal-cluster test bed (deploy/temporal/temporal.env), overriding none', () => {
    const shared = sharedClusterSettings();
    expect(Number(shared.NUM_HISTORY_SHARDS)).toBeGreaterThan(1);
    expect(shared.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH).toBe('true');
    for (const name of ['temporal-schema', ...TEMPORAL_SERVICE_NAMES]) {
      expect((svc(name) as Json)['env_file'], name).toEqual(['deploy/temporal/temporal.env']);
      const own = Object.keys(env(svc(name))).filter((k) => k in shared);
      expect(own, `${name} overrides shared settings`).toEqual([]);
    }
    const roles = TEMPORAL_SERVICE_NAMES.map((n) => env(svc(n)).TEMPORAL_SERVICES).sort();
    expect(roles).toEqual([...TEMPORAL_SERVICES].sort());
    // mTLS: the frontend trusts client certificates of the CA, and every client presents one.
    const frontend = env(svc('temporal'));
    expect(frontend.TEMPORAL_TLS_CLIENT1_CA_CERT).toBe(frontend.TEMPORAL_TLS_SERVER_CA_CERT);
    for (const name of ['itinerant-worker', 'temporal-search-attributes']) {
      const e = env(svc(name));
      expect(e.TEMPORAL_TLS_CLIENT_CERT_PATH, name).toMatch(/^\/tls\/temporal\//);
      expect(e.TEMPORAL_TLS_SERVER_NAME, name).toBe(shared.TEMPORAL_TLS_FRONTEND_SERVER_NAME);
    }
    expect(env(svc('temporal-ui')).TEMPORAL_TLS_SERVER_NAME).toBe(shared.TEMPORAL_TLS_FRONTEND_SERVER_NAME);
  });

  it('the worker is configured the way its entrypoint expects', () => {
    const worker = svc('itinerant-worker');
    const e = env(worker);
    expect(worker.build).toBeDefined();
    expect(e.TEMPORAL_NAMESPACE).toBe('default');
    expect(e.ITINERANT_CONFIG).toBe('/config/fleet.yaml');
    const mounts = (worker.volumes ?? []).map((v) => {
      if (typeof v !== 'string') return { source: v.source ?? '', target: v.target, readOnly: v.read_only === true };
      const [source = '', target = '', mode = ''] = v.split(':');
      return { source, target, readOnly: mode.split(',').includes('ro') };
    });
    const mountFor = (path: string) => mounts.find((m) => path === m.target || path.startsWith(`${m.target}/`));
    for (const key of ['ITINERANT_CONFIG', 'KUBECONFIG', 'OCI_CONFIG_FILE', 'ITINERANT_CODEC_KEYS_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH']) {
      const path = e[key];
      expect(path, key).toBeDefined();
      const m = mountFor(path!);
      expect(m, `${key}=${path} is inside a mounted volume`).toBeDefined();
      expect(m!.readOnly, `${key} mount is read-only`).toBe(true);
    }
    expect(mountFor(e.ITINERANT_CONFIG!)!.source).toBe('./config');
    expect(mountFor(e.ITINERANT_CODEC_KEYS_PATH!)).toMatchObject({ source: './secrets', readOnly: true });
    expect(mountFor(e.OCI_CONFIG_FILE!)!.source).toBe('~/.oci');
  });

  it('every published port is bound to 127.0.0.1 by default; ITINERANT_PUBLISH_IP widens them all, explicitly', () => {
    const all = (env: Record<string, string>) => Object.entries(services).flatMap(([name, service]) => publishedPorts(service, env).map((p) => ({ name, ...p })));
    const byDefault = all({});
    expect(byDefault.map((p) => p.name).sort()).toEqual(['itinerant-codec-server', 'temporal', 'temporal-ui']);
    for (const p of byDefault) expect(p.ip, `${p.name} publishes ${p.key}`).toBe('127.0.0.1');
    for (const p of all({ ITINERANT_PUBLISH_IP: '0.0.0.0' })) expect(p.ip, `${p.name} publishes ${p.key}`).toBe('0.0.0.0');
    for (const p of all({ ITINERANT_PUBLISH_IP: '' })) expect(p.ip, `${p.name}: an empty ITINERANT_PUBLISH_IP keeps the default`).toBe('127.0.0.1');
  });

  it('the port check reads what it is given (a port without a host IP is on every interface)', () => {
    expect(publishedPorts({ ports: ['7233:7233'] })[0]!.ip).toBe('0.0.0.0');
    expect(publishedPorts({ ports: ['127.0.0.1:7233:7233'] })[0]!.ip).toBe('127.0.0.1');
    expect(publishedPorts({ ports: [{ target: 7233, published: 7233 }] })[0]!.ip).toBe('0.0.0.0');
    expect(publishedPorts({ ports: ['${IP:-127.0.0.1}:7233:7233'] }, { IP: '10.0.0.5' })[0]!.ip).toBe('10.0.0.5');
    expect(() => publishedPorts({ ports: ['${IP:?must be set}:7233:7233'] })).toThrow(/not handled/);
  });

  it('the worker speaks mTLS with the mounted certificates (variables it reads) and passes the API key through from the shell or .env', () => {
    const worker = svc('itinerant-worker');
    const raw = worker.environment as Record<string, unknown>;
    for (const name of ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY']) {
      expect(TEMPORAL_CONNECTION_VARIABLES, `${name} is a variable the worker reads`).toContain(name);
      expect(raw, name).toHaveProperty(name);
    }
    expect(raw.TEMPORAL_API_KEY, 'TEMPORAL_API_KEY has no value in the file (a bare key: taken from the environment when set there)').toBeNull();
    expect(worker.volumes).toContainEqual({ type: 'bind', source: './tls/temporal', target: '/tls/temporal', read_only: true, bind: { create_host_path: true } });
  });

  it('published host ports do not collide', () => {
    const seen = new Map<string, string>();
    for (const [name, service] of Object.entries(services)) {
      for (const { key } of publishedPorts(service)) {
        const port = key.split(':').at(-1)!;
        for (const [other, owner] of seen) {
          const otherPort = other.split(':').at(-1)!;
          const [ip] = key.split(':');
          const [otherIp] = other.split(':');
          const overlap = ip === otherIp || ip === '0.0.0.0' || otherIp === '0.0.0.0';
          expect(overlap && port === otherPort, `${name} ${key} collides with ${owner} ${other}`).toBe(false);
        }
        seen.set(key, name);
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });

  it('named volumes and networks used by services are declared', () => {
    const declaredVolumes = Object.keys(compose.volumes ?? {});
    const declaredNetworks = Object.keys(compose.networks ?? {});
    for (const [name, service] of Object.entries(services)) {
      for (const v of service.volumes ?? []) {
        let source: string | undefined;
        if (typeof v === 'string') {
          const parts = v.split(':');
          source = parts.length > 1 ? parts[0] : undefined;
        } else if ((v.type ?? 'volume') === 'volume') {
          source = v.source;
        }
        if (source === undefined || /^[./~]/.test(source)) continue; // anonymous or bind mount
        expect(declaredVolumes, `${name} uses volume ${source}`).toContain(source);
      }
      const nets = Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {});
      for (const n of nets) expect(declaredNetworks, `${name} uses network ${n}`).toContain(n);
    }
  });

  it('every image is pinned (a tag other than latest, or a digest)', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.image === undefined) {
        expect(service.build, `${name} has neither image nor build`).toBeDefined();
        continue;
      }
      const image = service.image;
      if (image.includes('@sha256:')) continue;
      const lastSegment = image.split('/').at(-1)!;
      const tag = lastSegment.includes(':') ? lastSegment.split(':').at(-1)! : undefined;
      expect(tag, `${name} image ${image} has a tag`).toBeDefined();
      expect(tag, `${name} image ${image}`).not.toBe('latest');
      expect(image, `${name} image ${image} uses no unresolved variable`).not.toMatch(/\$\{?[A-Z_]+(?!:-)/);
    }
  });

  it('the search-attribute job registers exactly the project\'s search attributes', () => {
    const script = initScript();
    const names = [...script.matchAll(/for name in ([^;]+);/g)].flatMap((m) => m[1]!.trim().split(/\s+/));
    expect(names.sort()).toEqual(Object.keys(itinerantSearchAttributes()).sort());
    const types = new Set(Object.values(itinerantSearchAttributes()));
    expect([...types]).toEqual(['Keyword']);
    expect(script).toMatch(/--type Keyword/);
  });

  it('Dockerfile builds once (compiled JavaScript, the workflow bundle) into a non-root image without dev tooling', () => {
    const dockerfile = readFileSync(join(projectRoot(), 'Dockerfile'), 'utf8');
    const [build = '', runtime = ''] = dockerfile.split(/^(?=FROM )/m).filter((stage) => stage.startsWith('FROM'));
    expect(build).toMatch(/^FROM node:20-slim AS build\b/m);
    expect(build).toMatch(/^RUN npm run build$/m);
    expect(runtime).toMatch(/^FROM node:20-slim\b/m);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/ITINERANT_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
    expect(runtime).toMatch(/^USER (?!root\b)\S+/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/workers\/main\.js"\]$/m);
    const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    for (const tool of ['tsx', 'typescript', 'vitest', '@temporalio/testing']) expect(Object.keys(pkg.dependencies), `${tool} is not a runtime dependency`).not.toContain(tool);
    expect(pkg.scripts.build).toMatch(/tsconfig\.build\.json.*workflow-bundle\.ts dist\/workflow-bundle\.js/);
    const ignore = readFileSync(join(projectRoot(), '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.git', '.itinerant']) expect(ignore).toContain(entry);
  });
});

/** The init job's shell script, as compose runs it (entrypoint sh -c, one script), with compose's `$$` escapes resolved. */
function initScript(): string {
  const job = svc('temporal-search-attributes');
  expect(job.entrypoint).toEqual(['/bin/sh', '-c']);
  const command = Array.isArray(job.command) ? job.command : [job.command ?? ''];
  expect(command).toHaveLength(1);
  return composeJobScript('temporal-search-attributes');
}

describe('the search-attribute init job against a real server', () => {
  it('waits for the server, registers the attributes, and is idempotent', async () => {
    const cli = await ensureTemporalCli();
    const port = await getFreePort();
    const address = `127.0.0.1:${port}`;
    // A bare dev server, without our search attributes, started after the job so the job has to wait.
    const jobEnv = {
      ...process.env,
      PATH: `${dirname(cli)}:${process.env.PATH ?? ''}`,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
    };
    const runJob = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('/bin/sh', ['-c', initScript()], { env: jobEnv, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.stderr.on('data', (b: Buffer) => (out += b.toString()));
        child.on('close', (code) => resolve({ code, out }));
      });
    const first = runJob();
    await new Promise((r) => setTimeout(r, 500));
    const server = spawn(cli, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error'], {
      stdio: 'ignore',
    });
    try {
      const r1 = await first;
      expect(r1.code, r1.out).toBe(0);
      const r2 = await runJob();
      expect(r2.code, r2.out).toBe(0);
      expect(r2.out).toMatch(/already registered/);
      const connection = await Connection.connect({ address });
      try {
        const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        for (const name of Object.keys(itinerantSearchAttributes())) expect(res.customAttributes ?? {}).toHaveProperty(name);
      } finally {
        await connection.close();
      }
    } finally {
      server.kill('SIGTERM');
      await new Promise<void>((r) => (server.exitCode !== null || server.signalCode !== null ? r() : server.once('exit', () => r())));
    }
  });
});

