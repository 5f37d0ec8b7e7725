// The OCI CLI (`oci`, PyPI package oci-cli), for tests that drive it against the sim as a user would:
// $ITINERANT_OCI_CLI_PATH, else <home>/tools/oci-cli/bin/oci, else installed there from PyPI with
// `pip --target` and a relocatable wrapper (a venv's scripts name their own path, so it could not be
// moved into place atomically as the Temporal binaries are).
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toolsDir } from '../src/config/home.js';
import { checkPip, isExecutableFile, runPip, type Logger } from './temporal/temporal-cli.js';

export const OCI_CLI_VERSION = '3.95.1';
const ENV = 'ITINERANT_OCI_CLI_PATH';
const spec = { label: 'OCI CLI', envVar: ENV, binName: 'oci' };

const WRAPPER = `#!/bin/sh
# oci-cli ${OCI_CLI_VERSION}, installed by itinerant (testbeds/oci-cli.ts) with pip --target into ../lib
here=$(dirname "$(readlink -f "$0")")
PYTHONPATH="$here/../lib" exec python3 -c 'import sys; from oci_cli.cli import cli; sys.exit(cli())' "$@"
`;

let inFlight: Promise<string> | undefined;

/** The `oci` binary, installing it under <home>/tools/oci-cli when there is none (minutes, once). */
export function ensureOciCli(log: Logger = (l) => process.stderr.write(`[itinerant] ${l}\n`)): Promise<string> {
  const fromEnv = process.env[ENV];
  if (fromEnv) {
    const p = resolve(fromEnv);
    if (!isExecutableFile(p)) return Promise.reject(new Error(`${ENV}=${fromEnv} does not name an executable file`));
    return Promise.resolve(p);
  }
  const bin = toolsDir('oci-cli', 'bin', 'oci');
  if (isExecutableFile(bin)) return Promise.resolve(bin);
  return (inFlight ??= install(bin, log).finally(() => (inFlight = undefined)));
}

async function install(bin: string, log: Logger): Promise<string> {
  checkPip(spec);
  mkdirSync(toolsDir(), { recursive: true });
  const tmp = toolsDir(`.oci-cli.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const started = Date.now();
  try {
    const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--target', join(tmp, 'lib'), `oci-cli==${OCI_CLI_VERSION}`];
    log(`OCI CLI not found (${ENV}, ${bin}); installing it: python3 ${args.join(' ')}`);
    await runPip(args, 10 * 60_000, log);
    mkdirSync(join(tmp, 'bin'));
    writeFileSync(join(tmp, 'bin', 'oci'), WRAPPER);
    chmodSync(join(tmp, 'bin', 'oci'), 0o755);
    try {
      renameSync(tmp, toolsDir('oci-cli'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !isExecutableFile(bin)) throw e;
      log('another process installed the OCI CLI at the same time; using its copy');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  log(`OCI CLI ${OCI_CLI_VERSION} ready at ${bin} after ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return bin;
}
