import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { describeIssues, fleetConfigSchema, type FleetConfig } from '../core/config.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Load and validate a fleet configuration file; relative paths inside it are resolved against the file's folder. */
export function loadFleetConfig(path: string): FleetConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read fleet configuration ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: not valid YAML: ${(e as Error).message}`);
  }
  const parsed = fleetConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${path}: ${describeIssues(parsed.error)}`);
  const base = dirname(resolve(path));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return {
    clusters: parsed.data.clusters.map((c) => ({ ...c, kubeconfig: abs(c.kubeconfig), oci: { ...c.oci, configFile: abs(c.oci.configFile) } })),
  };
}
