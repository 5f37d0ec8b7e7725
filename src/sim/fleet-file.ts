import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { SeedNodeGroup } from './seed.js';
import { SIM_COMPARTMENT } from './seed.js';

/** Write `<dir>/fleet.yaml`: the fleet configuration the worker reads for the test bed (paths relative to it). */
export async function writeFleetFile(
  dir: string,
  a: { clusterName: string; kubeconfigPath: string; ociConfigPath: string; ociUrl: string; nodeGroups: SeedNodeGroup[] | undefined; header: string },
): Promise<string> {
  const fleetConfigPath = path.join(dir, 'fleet.yaml');
  const fleet = {
    clusters: [
      {
        name: a.clusterName,
        kubeconfig: path.relative(dir, a.kubeconfigPath),
        context: a.clusterName,
        oci: { configFile: path.relative(dir, a.ociConfigPath), profile: 'DEFAULT', endpoints: { compute: a.ociUrl, identity: a.ociUrl } },
        compartmentId: SIM_COMPARTMENT,
        nodeGroups: a.nodeGroups ?? [],
      },
    ],
  };
  await writeFile(fleetConfigPath, `# ${a.header} at ${new Date().toISOString()}; regenerated at each start.\n` + YAML.stringify(fleet));
  return fleetConfigPath;
}
