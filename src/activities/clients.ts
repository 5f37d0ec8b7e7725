import * as k8s from '@kubernetes/client-node';
import { CircuitBreaker, ConfigFileAuthenticationDetailsProvider, MaxAttemptsTerminationStrategy } from 'oci-common';
import { ComputeClient } from 'oci-core';
import { IdentityClient } from 'oci-identity';
import { ApplicationFailure } from '@temporalio/activity';
import type { ClusterConfig, FleetConfig } from '../core/config.js';

// Temporal's retry policy is the one durable backoff; the SDK only smooths over a blip, and its
// process-wide circuit breaker would turn one cluster's API trouble into failures for all of them.
CircuitBreaker.EnableGlobalCircuitBreaker = false;
const OCI_CLIENT_CONFIGURATION = { retryConfiguration: { terminationStrategy: new MaxAttemptsTerminationStrategy(3) } };

export interface ClusterClients {
  config: ClusterConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  compute: ComputeClient;
  identity: IdentityClient;
}

/** Lazily built clients per cluster of the fleet configuration. */
export class ClientRegistry {
  private readonly cache = new Map<string, ClusterClients>();
  constructor(private readonly fleet: FleetConfig) {}

  clusterConfig(cluster: string): ClusterConfig {
    const c = this.fleet.clusters.find((x) => x.name === cluster);
    if (!c) {
      throw ApplicationFailure.nonRetryable(
        `cluster: ${cluster} is not in the fleet configuration (known: ${this.fleet.clusters.map((x) => x.name).join(', ')})`,
        'UnknownCluster',
      );
    }
    return c;
  }

  for(cluster: string): ClusterClients {
    const cached = this.cache.get(cluster);
    if (cached) return cached;
    const config = this.clusterConfig(cluster);
    // A missing or broken credentials file does not heal by retrying: say which one, once.
    const load = <T>(what: string, fn: () => T): T => {
      try {
        return fn();
      } catch (e) {
        throw ApplicationFailure.nonRetryable(`cluster ${cluster}: cannot load ${what}: ${(e as Error).message}`, 'ConfigError');
      }
    };
    const kc = load(`kubeconfig ${config.kubeconfig}`, () => {
      const k = new k8s.KubeConfig();
      k.loadFromFile(config.kubeconfig);
      if (config.context) k.setCurrentContext(config.context);
      return k;
    });
    const provider = load(`OCI config ${config.oci.configFile} [${config.oci.profile}]`, () => new ConfigFileAuthenticationDetailsProvider(config.oci.configFile, config.oci.profile));
    const compute = new ComputeClient({ authenticationDetailsProvider: provider }, OCI_CLIENT_CONFIGURATION);
    const identity = new IdentityClient({ authenticationDetailsProvider: provider }, OCI_CLIENT_CONFIGURATION);
    if (config.oci.endpoints.compute) compute.endpoint = config.oci.endpoints.compute;
    if (config.oci.endpoints.identity) identity.endpoint = config.oci.endpoints.identity;
    const clients = { config, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api), compute, identity };
    this.cache.set(cluster, clients);
    return clients;
  }
}
