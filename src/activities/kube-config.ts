import * as k8s from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

type AnyAgent = http.Agent | https.Agent;

/** What identifies a connection to the API server: the agent options that reach TLS (CA, client certificate, server name). */
function agentKey(agent: AnyAgent): string {
  const o = (agent as { options?: Record<string, unknown> }).options ?? {};
  const part = (v: unknown) => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v));
  return [agent instanceof https.Agent ? 'https' : 'http', ...['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized'].map((k) => part(o[k]))].join('\0');
}

/**
 * One TLS context for every connection of the agent: Node otherwise builds one per connection, parsing the CA,
 * certificate and key again (a watch's connection ends with the watch). Credentials it cannot read are left to fail
 * at connect, as before.
 */
function withSecureContext(options: https.AgentOptions): https.AgentOptions {
  if (options.secureContext) return options;
  try {
    return { ...options, secureContext: tls.createSecureContext(options) };
  } catch {
    return options;
  }
}

/**
 * A KubeConfig whose requests share keep-alive agents. client-node builds a new https.Agent for every request
 * (and every watch), so each one paid a TLS handshake and a new SecureContext: 9 % of the worker's main thread in a
 * profile of 100 repaves at once (npm run bench, orchestration-cost). The agents are keyed by their TLS options, so a credential
 * that changes (an exec plugin's new certificate, a rewritten file) gets a new agent, not a stale connection.
 */
export class KeepAliveKubeConfig extends k8s.KubeConfig {
  private readonly agents = new Map<string, AnyAgent>();

  private shared(agent: AnyAgent): AnyAgent {
    // Proxy agents (socks, http(s) proxy) keep client-node's own handling.
    if (agent.constructor !== https.Agent && agent.constructor !== http.Agent) return agent;
    const key = agentKey(agent);
    let kept = this.agents.get(key);
    if (!kept) {
      const options = { ...(agent as { options?: https.AgentOptions }).options, keepAlive: true };
      kept = agent instanceof https.Agent ? new https.Agent(withSecureContext(options)) : new http.Agent(options);
      this.agents.set(key, kept);
    }
    agent.destroy();
    return kept;
  }

  override async applyToFetchOptions(opts: https.RequestOptions) {
    const init = await super.applyToFetchOptions(opts);
    if (init.agent && typeof init.agent !== 'function') init.agent = this.shared(init.agent as AnyAgent);
    return init;
  }

  override async applySecurityAuthentication(context: Parameters<k8s.KubeConfig['applySecurityAuthentication']>[0]) {
    await super.applySecurityAuthentication(context);
    const agent = context.getAgent();
    if (agent) context.setAgent(this.shared(agent));
  }
}
