import { ApplicationFailure } from '@temporalio/activity';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClientRegistry, credentialFileProblem } from '../../src/activities/clients.js';
import { fleetConfigSchema } from '../../src/core/config.js';

const TOKEN = 's3cr3t-t0ken-abcdef';
const KEY_DATA = 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t';
/** A kubeconfig with a token and a client key, broken by one mis-indented line right between them. */
const brokenKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://127.0.0.1:6443"}
  name: c
users:
- name: u
  user:
    token: ${TOKEN}
   client-key-data: ${KEY_DATA}
contexts:
- context: {cluster: c, user: u}
  name: x
current-context: x
`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function registryFor(kubeconfig: string | undefined, context?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'itinerant-clients-'));
  dirs.push(dir);
  const path = join(dir, 'kubeconfig');
  if (kubeconfig !== undefined) writeFileSync(path, kubeconfig);
  const fleet = fleetConfigSchema.parse({
    clusters: [{ name: 'c1', kubeconfig: path, ...(context ? { context } : {}), oci: { configFile: join(dir, 'oci-config') }, compartmentId: 'ocid1.compartment.oc1..c' }],
  });
  return { path, registry: new ClientRegistry(fleet) };
}

function failureOf(fn: () => unknown): ApplicationFailure {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApplicationFailure);
    return e as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

describe('credentials files: errors name the file and the line, never the content', () => {
  it('a malformed kubeconfig: the YAML parser quotes the token and the key around the error; the failure does not', () => {
    const { path, registry } = registryFor(brokenKubeconfig);
    const failure = failureOf(() => registry.for('c1'));
    expect(failure.type).toBe('ConfigError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(`cluster c1: cannot load kubeconfig ${path}: line 10, column 4: bad indentation of a mapping entry`);
    expect(JSON.stringify({ ...failure, message: failure.message, stack: failure.stack })).not.toMatch(new RegExp(`${TOKEN}|${KEY_DATA.slice(0, 12)}`));
  });

  it('a missing kubeconfig: the file and the file system code', () => {
    const { path, registry } = registryFor(undefined);
    const failure = failureOf(() => registry.for('c1'));
    expect(failure.message).toBe(`cluster c1: cannot load kubeconfig ${path}: ENOENT (the file cannot be read)`);
  });

  it('a context the kubeconfig does not have is named, with the ones it has', () => {
    const { path, registry } = registryFor(brokenKubeconfig.replace(`   client-key-data: ${KEY_DATA}\n`, ''), 'prod');
    const failure = failureOf(() => registry.for('c1'));
    expect(failure.message).toBe(`cluster c1: kubeconfig ${path} has no context prod (it has: x)`);
  });

  it.each<[string, unknown, string]>([
    ['any other error keeps its message to itself', Object.assign(new Error(`unexpected token ${TOKEN}`), { name: 'SyntaxError' }), 'SyntaxError (its message is withheld: it may quote the file\'s secrets)'],
    ['a YAML reason that is not plain words is not repeated', { name: 'YAMLException', reason: `unexpected "${TOKEN}:x"`, mark: { line: 2, column: 0 } }, 'line 3, column 1: not valid YAML'],
    ['a permission problem', Object.assign(new Error(`EACCES: permission denied, open '/k'`), { code: 'EACCES' }), 'EACCES (the file cannot be read)'],
    ['not even an Error', `token: ${TOKEN}`, "Error (its message is withheld: it may quote the file's secrets)"],
  ])('%s', (_name, e, problem) => {
    expect(credentialFileProblem(e)).toBe(problem);
  });
});
