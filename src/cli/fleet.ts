// The fleet configuration file as the CLI commands read it: --config, else $ITINERANT_CONFIG, else the simulated fleet's.
import { join } from 'node:path';
import type { ClusterConfig, FleetConfig } from '../core/config.js';
import { loadFleetConfig } from '../config/fleet-config.js';
import { itinerantHome } from '../config/home.js';
import { CliError, EXIT } from './errors.js';

export const defaultFleetConfig = (env = process.env) => env.ITINERANT_CONFIG ?? join(itinerantHome(), 'sim', 'fleet.yaml');

/** The fleet file, validated; a file that does not load is refused input. */
export function loadConfig(path: string): FleetConfig {
  try {
    return loadFleetConfig(path);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.usage);
  }
}

/** The cluster named, or the only one of the file. */
export function pickCluster(fleet: FleetConfig, path: string, name: string | undefined): ClusterConfig {
  const names = fleet.clusters.map((c) => c.name).join(', ');
  if (name === undefined) {
    if (fleet.clusters.length === 1) return fleet.clusters[0]!;
    throw new CliError(`${path} declares several clusters (${names}): name one with --cluster`, EXIT.usage);
  }
  const cluster = fleet.clusters.find((c) => c.name === name);
  if (!cluster) throw new CliError(`cluster ${name} is not in ${path} (clusters: ${names})`, EXIT.usage);
  return cluster;
}
