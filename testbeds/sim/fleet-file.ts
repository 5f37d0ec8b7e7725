import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { SeedNodeGroup } from './seed.js';
import { SIM_COMPARTMENT } from './seed.js';

/**
 * The files a test bed hands to the worker and to people, in `dir`: `kubeconfig` (the worker's identity,
 * which fleet.yaml names), `admin.kubeconfig`, the OCI config (`oci/`), and `fleet.yaml`.
 */
export async function writeSimFiles(
  dir: string,
  a: {
    clusterName: string;
    /** kubeconfig YAML of the worker's identity, and of the administrator's */
    kubeconfig: string | Buffer;
    adminKubeconfig: string | Buffer;
    oci: { writeConfig(dir: string): Promise<{ configPath: string }>; vault: { vaultId: string; masterKeyId: string }; fleetNetwork(): { vcnId: string; subnetPool: string[] } };
    ociUrl: string;
    nodeGroups: SeedNodeGroup[] | undefined;
    /** The stateful-service namespaces the cluster declares (the worker's RBAC is rendered from them). */
    statefulNamespaces: string[];
    /** etcd as the secret-encryption rotation reads it (the sim's etcd view, or the control plane's etcd). */
    etcd?: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string };
    header: string;
  },
): Promise<{ kubeconfigPath: string; adminKubeconfigPath: string; ociConfigPath: string; fleetConfigPath: string }> {
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  const adminKubeconfigPath = path.join(dir, 'admin.kubeconfig');
  for (const [file, content] of [[kubeconfigPath, a.kubeconfig], [adminKubeconfigPath, a.adminKubeconfig]] as const) {
    await writeFile(file, content, { mode: 0o600 });
    await chmod(file, 0o600);
  }
  const { configPath: ociConfigPath } = await a.oci.writeConfig(path.join(dir, 'oci'));
  const fleetConfigPath = await writeFleetFile(dir, { ...a, kubeconfigPath, ociConfigPath, network: a.oci.fleetNetwork() });
  return { kubeconfigPath, adminKubeconfigPath, ociConfigPath, fleetConfigPath };
}

/** Write `<dir>/fleet.yaml`: the fleet configuration the worker reads for the test bed (paths relative to it). */
async function writeFleetFile(
  dir: string,
  a: {
    clusterName: string;
    kubeconfigPath: string;
    ociConfigPath: string;
    ociUrl: string;
    network: { vcnId: string; subnetPool: string[] };
    oci: { vault: { vaultId: string; masterKeyId: string } };
    nodeGroups: SeedNodeGroup[] | undefined;
    statefulNamespaces: string[];
    etcd?: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string };
    header: string;
  },
): Promise<string> {
  const fleetConfigPath = path.join(dir, 'fleet.yaml');
  const fleet = {
    clusters: [
      {
        name: a.clusterName,
        kubeconfig: path.relative(dir, a.kubeconfigPath),
        context: a.clusterName,
        oci: { configFile: path.relative(dir, a.ociConfigPath), profile: 'DEFAULT', endpoints: { compute: a.ociUrl, identity: a.ociUrl, vaults: a.ociUrl, secrets: a.ociUrl } },
        compartmentId: SIM_COMPARTMENT,
        network: a.network,
        keyStore: { vaultId: a.oci.vault.vaultId, masterKeyId: a.oci.vault.masterKeyId },
        nodeGroups: a.nodeGroups ?? [],
        statefulNamespaces: a.statefulNamespaces,
        ...(a.etcd ? { etcd: a.etcd } : {}),
      },
    ],
  };
  await writeFile(fleetConfigPath, `# ${a.header} at ${new Date().toISOString()}; regenerated at each start.\n` + YAML.stringify(fleet));
  return fleetConfigPath;
}
