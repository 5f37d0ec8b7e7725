import * as k8s from '@kubernetes/client-node';
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { KeepAliveKubeConfig } from '../../src/activities/kube-config.js';
import { selfSignedCert } from '../../testbeds/sim/kube/tls.js';

const kubeconfig = (certData: string, keyData = 'key', caData = 'ca') => `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${Buffer.from(caData).toString('base64')}}
  name: c
users:
- name: u
  user: {client-certificate-data: ${Buffer.from(certData).toString('base64')}, client-key-data: ${Buffer.from(keyData).toString('base64')}}
contexts:
- context: {cluster: c, user: u}
  name: x
current-context: x
`;

const agentOf = async (kc: k8s.KubeConfig) => (await kc.applyToFetchOptions({})).agent as https.Agent;

describe('KeepAliveKubeConfig', () => {
  it('gives every request of a cluster one keep-alive agent, where client-node makes a new one each time', async () => {
    const plain = new k8s.KubeConfig();
    plain.loadFromString(kubeconfig('cert-1'));
    expect(await agentOf(plain)).not.toBe(await agentOf(plain));

    const kc = new KeepAliveKubeConfig();
    kc.loadFromString(kubeconfig('cert-1'));
    const first = await agentOf(kc);
    expect(first).toBeInstanceOf(https.Agent);
    expect(first.options.keepAlive).toBe(true);
    expect(await agentOf(kc)).toBe(first);
    // The generated API clients (makeApiClient) go through applySecurityAuthentication: the same agent.
    const ctx = new k8s.RequestContext('https://127.0.0.1:6443/api/v1/nodes', k8s.HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    expect(ctx.getAgent()).toBe(first);
  });

  it('makes a new agent when the credentials change, never reusing a connection made with old ones', async () => {
    const kc = new KeepAliveKubeConfig();
    kc.loadFromString(kubeconfig('cert-1'));
    const first = await agentOf(kc);
    kc.loadFromString(kubeconfig('cert-2'));
    expect(await agentOf(kc)).not.toBe(first);
  });

  it('builds the TLS context once for all the connections of an agent, and leaves credentials it cannot read to fail at connect', async () => {
    const { cert, key } = selfSignedCert('client');
    const kc = new KeepAliveKubeConfig();
    kc.loadFromString(kubeconfig(cert, key, selfSignedCert('ca').cert));
    expect((await agentOf(kc)).options.secureContext).toBeDefined();

    const broken = new KeepAliveKubeConfig();
    broken.loadFromString(kubeconfig('cert-1'));
    expect((await agentOf(broken)).options.secureContext).toBeUndefined();
  });
});
