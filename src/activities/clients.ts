import * as k8s from '@kubernetes/client-node';
import { CircuitBreaker, ConfigFileAuthenticationDetailsProvider, MaxAttemptsTerminationStrategy, type ClientConfiguration, type DelayStrategy } from 'oci-common';
import { ComputeClient, VirtualNetworkClient } from 'oci-core';
import { IdentityClient } from 'oci-identity';
import { SecretsClient } from 'oci-secrets';
import { VaultsClient } from 'oci-vault';
import { ApplicationFailure } from '@temporalio/activity';
import type { ClusterConfig, FleetConfig } from '../core/config.js';
import { KeepAliveKubeConfig } from './kube-config.js';
import { makeKubeApiClient } from './kube-http.js';
import { parsedKeyHttpClient } from './oci-signer.js';

// Temporal's retry policy is the one durable backoff; the SDK only smooths over a blip, and its
// process-wide circuit breaker would turn one cluster's API trouble into failures for all of them.
CircuitBreaker.EnableGlobalCircuitBreaker = false;

/** SDK attempts per OCI request (the first and two retries). */
export const OCI_MAX_ATTEMPTS = 3;
/**
 * How long one attempt may wait for OCI's answer (headers and body). The SDK sets no timeout and Node's
 * fetch waits minutes, so without it one request that is never answered (a dropped connection, a
 * stalled load balancer) holds the activity past its 1-minute startToClose instead of failing. With it,
 * a whole SDK call is bounded: 3 attempts x 10 s + at most 5 s of delays, well inside that minute.
 */
export const OCI_REQUEST_TIMEOUT_MS = 10_000;

/** 1-2 s, then 2-3 s: a short, explicit cap, not whatever default the operation's spec picks. */
const SHORT_BACKOFF: DelayStrategy = { delay: ({ attemptCount }) => Math.min(2 ** attemptCount, 2) + Math.random() };

export interface OciClientOptions {
  /** Per-attempt timeout of OCI requests; default {@link OCI_REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
}

export function ociClientConfiguration({ requestTimeoutMs = OCI_REQUEST_TIMEOUT_MS }: OciClientOptions = {}): ClientConfiguration {
  return {
    retryConfiguration: { terminationStrategy: new MaxAttemptsTerminationStrategy(OCI_MAX_ATTEMPTS), delayStrategy: SHORT_BACKOFF },
    // The SDK hands httpOptions to every fetch (per attempt, retries included) as its RequestInit: a getter
    // gives each attempt a fresh deadline. An attempt that times out is retried by the SDK like a refused
    // connection; after the last one the call fails and Temporal's retry policy takes over.
    httpOptions: {
      get signal() {
        return AbortSignal.timeout(requestTimeoutMs);
      },
    },
  };
}

export interface ClusterClients {
  config: ClusterConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  /** For watches (src/activities/kube-watch.ts); without it, waits poll. */
  kubeConfig?: k8s.KubeConfig;
  compute: ComputeClient;
  /** VCNs and subnets (node groups' dedicated subnets, src/activities/virtual-network.ts). */
  network: VirtualNetworkClient;
  identity: IdentityClient;
  /** Vault secrets management (write) and Secrets (read bundles): only for a cluster with a keyStore. */
  vaults?: VaultsClient;
  secrets?: SecretsClient;
}

/**
 * What went wrong with a credentials file, without its content: parsers quote the lines around an error
 * (tokens, client-key-data, key_file passphrases), and this message ends up in workflow history, the UI and
 * logs. The file system's code, or the line, column and reason of a YAML error; nothing else.
 */
export function credentialFileProblem(e: unknown): string {
  const err = e as { name?: string; code?: unknown; reason?: unknown; mark?: { line?: unknown; column?: unknown } };
  if (typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code)) return `${err.code} (the file cannot be read)`;
  if (err?.name === 'YAMLException' && typeof err.mark?.line === 'number' && typeof err.mark.column === 'number') {
    const reason = typeof err.reason === 'string' && /^[\w\s,'"()-]{1,100}$/.test(err.reason) ? err.reason : 'not valid YAML';
    return `line ${err.mark.line + 1}, column ${err.mark.column + 1}: ${reason}`;
  }
  return `${typeof err?.name === 'string' && /^\w{1,50}$/.test(err.name) ? err.name : 'Error'} (its message is withheld: it may quote the file's secrets)`;
}

/** Lazily built clients per cluster of the fleet configuration. */
export class ClientRegistry {
  private readonly cache = new Map<string, ClusterClients>();
  private readonly ociConfiguration: ClientConfiguration;
  constructor(
    private readonly fleet: FleetConfig,
    oci: OciClientOptions = {},
  ) {
    this.ociConfiguration = ociClientConfiguration(oci);
  }

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
        throw ApplicationFailure.nonRetryable(`cluster ${cluster}: cannot load ${what}: ${credentialFileProblem(e)}`, 'ConfigError');
      }
    };
    const kc = load(`kubeconfig ${config.kubeconfig}`, () => {
      const k = new KeepAliveKubeConfig();
      k.loadFromFile(config.kubeconfig);
      return k;
    });
    if (config.context) {
      const contexts = kc.getContexts().map((c) => c.name);
      if (!contexts.includes(config.context)) {
        throw ApplicationFailure.nonRetryable(`cluster ${cluster}: kubeconfig ${config.kubeconfig} has no context ${config.context} (it has: ${contexts.join(', ') || 'none'})`, 'ConfigError');
      }
      kc.setCurrentContext(config.context);
    }
    const provider = load(`OCI config ${config.oci.configFile} [${config.oci.profile}]`, () => new ConfigFileAuthenticationDetailsProvider(config.oci.configFile, config.oci.profile));
    // The SDK's type takes one of the two; its clients' constructors use both: the provider for the region, the
    // HTTP client (instead of the one they would build) to sign and send.
    const auth = { authenticationDetailsProvider: provider, httpClient: parsedKeyHttpClient(provider, this.ociConfiguration) } as { authenticationDetailsProvider: typeof provider };
    const compute = new ComputeClient(auth, this.ociConfiguration);
    const identity = new IdentityClient(auth, this.ociConfiguration);
    if (config.oci.endpoints.compute) compute.endpoint = config.oci.endpoints.compute;
    if (config.oci.endpoints.identity) identity.endpoint = config.oci.endpoints.identity;
    const network = new VirtualNetworkClient(auth, this.ociConfiguration);
    const networkEndpoint = config.oci.endpoints.network ?? config.oci.endpoints.compute; // one iaas host serves both in OCI
    if (networkEndpoint) network.endpoint = networkEndpoint;
    const clients: ClusterClients = { config, core: makeKubeApiClient(kc, k8s.CoreV1Api), apps: makeKubeApiClient(kc, k8s.AppsV1Api), kubeConfig: kc, compute, network, identity };
    if (config.keyStore) {
      clients.vaults = new VaultsClient(auth, this.ociConfiguration);
      clients.secrets = new SecretsClient(auth, this.ociConfiguration);
      if (config.oci.endpoints.vaults) clients.vaults.endpoint = config.oci.endpoints.vaults;
      if (config.oci.endpoints.secrets) clients.secrets.endpoint = config.oci.endpoints.secrets;
    }
    this.cache.set(cluster, clients);
    return clients;
  }
}
