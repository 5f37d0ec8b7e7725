// The Cassandra adapter: speaks Cassandra's own decommission protocol by running nodetool and cqlsh in the
// member's pods (through a PodExecutor) and parsing what they print (./nodetool.ts).
import type { MemberState, PodExecutor, ReplicationNeed, RingMember, StatefulServiceAdapter } from '../../core/decommission.js';
import { parseKeyspaceReplication, parseNetstats, parseNodetoolInfo, parseNodetoolStatus } from './nodetool.js';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Run a command and return its stdout; a failed command throws with what it printed. */
async function output(exec: PodExecutor, pod: string, command: string[]): Promise<string> {
  const r = await exec.run(pod, command);
  if (r.exitCode !== 0) {
    const printed = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-3).join(' / ');
    throw new Error(`${command.join(' ')} in ${pod} failed (exit ${r.exitCode ?? 'unknown'}): ${printed || 'no output'}`);
  }
  return r.stdout;
}

const RING_STATE = { Normal: 'normal', Leaving: 'leaving', Joining: 'joining', Moving: 'moving' } as const;
export const KEYSPACES_QUERY = 'SELECT keyspace_name, replication FROM system_schema.keyspaces';

export const cassandraAdapter: StatefulServiceAdapter = {
  service: 'cassandra',
  container: 'cassandra',

  async ring(exec, observer): Promise<RingMember[]> {
    const status = parseNodetoolStatus(await output(exec, observer, ['nodetool', 'status']));
    return status.members.map((m) => ({ id: m.hostId, address: m.address, up: m.status === 'Up', state: RING_STATE[m.state], group: m.datacenter }));
  },

  async identify(exec, member) {
    const info = parseNodetoolInfo(await output(exec, member, ['nodetool', 'info']));
    return { id: info.hostId, ...(info.datacenter ? { group: info.datacenter } : {}) };
  },

  async state(exec, member): Promise<MemberState> {
    // Unreachable and unreadable (output cut short or mangled) alike: the mode is unknown, never guessed.
    let n: ReturnType<typeof parseNetstats>;
    try {
      n = parseNetstats(await output(exec, member, ['nodetool', 'netstats']));
    } catch (e) {
      return { mode: 'UNREACHABLE', error: errorText(e) };
    }
    const s = n.sending;
    return {
      mode: n.mode,
      ...(s.files > 0 || s.bytes > 0 ? { stream: { bytesSent: s.bytesDone, bytesTotal: s.bytes, filesSent: s.filesDone, filesTotal: s.files } } : {}),
      ...(n.notSending ? { notStreaming: true } : {}),
    };
  },

  async replication(exec, observer): Promise<ReplicationNeed[]> {
    const keyspaces = parseKeyspaceReplication(await output(exec, observer, ['cqlsh', '-e', KEYSPACES_QUERY]));
    const needs: ReplicationNeed[] = [];
    for (const ks of keyspaces) {
      if (ks.replicationFactor !== undefined) needs.push({ what: `keyspace ${ks.keyspace}`, replicas: ks.replicationFactor });
      for (const [dc, rf] of Object.entries(ks.perDatacenter ?? {})) needs.push({ what: `keyspace ${ks.keyspace}`, replicas: rf, group: dc });
    }
    return needs;
  },

  decommissionCommand: () => ['nodetool', 'decommission'],
};
