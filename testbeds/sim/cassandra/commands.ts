// `nodetool` and `cqlsh -e` as a Cassandra 4.1 container answers them, over the model in ring.ts.

import type { ExecResult } from '../kube/exec.js';
import { cqlshTable, percent, stringifyFileSize, tableBuilder } from './format.js';
import { CASSANDRA_VERSION, isLocal, isSystem, sameReplication, shortClass, type Member, type Ring, type RingModel } from './ring.js';

const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
/** NodeTool.badUse: IllegalArgument/IllegalState (and parse errors) print to stdout, exit 1. */
const badUse = (message: string): ExecResult => ({
  stdout: `nodetool: ${message}\nSee 'nodetool help' or 'nodetool help <command>'.\n`,
  stderr: '',
  exitCode: 1,
});

const NODETOOL_COMMANDS = ['status', 'netstats', 'info', 'decommission', 'describecluster', 'version', 'help'];
const GLOBAL_WITH_VALUE = new Set(['-h', '--host', '-p', '--port', '-u', '--username', '-pw', '--password', '-pwf', '--password-file']);

export async function nodetool(model: RingModel, ring: Ring | undefined, member: Member | undefined, argv: string[]): Promise<ExecResult> {
  const args: string[] = [];
  let printPort = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (a === '-pp' || a === '--print-port') printPort = true;
    else args.push(a);
  }
  const [cmd, ...rest] = args;
  if (!cmd) return ok(usage());
  if (!NODETOOL_COMMANDS.includes(cmd)) return badUse(`Found unexpected parameters: [${args.join(', ')}]`);
  if (cmd === 'help') return ok(usage());
  if (cmd === 'version') return ok(`ReleaseVersion: ${CASSANDRA_VERSION}\n`);
  if (!ring || !member) {
    return { stdout: '', stderr: "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused (Connection refused)'.\n", exitCode: 1 };
  }
  model.sync();
  switch (cmd) {
    case 'status': return status(model, ring, rest.find((a) => !a.startsWith('-')), printPort);
    case 'netstats': return ok(netstats(member, printPort, rest.includes('-H') || rest.includes('--human-readable')));
    case 'info': return ok(info(member, rest.includes('-T') || rest.includes('--tokens')));
    case 'describecluster': return ok(describecluster(model, ring, printPort));
    case 'decommission': {
      const unknown = rest.filter((a) => a !== '-f' && a !== '--force');
      if (unknown.length) return badUse(`Found unexpected parameters: [${unknown.join(', ')}]`);
      const out = model.decommission(ring, member, rest.includes('-f') || rest.includes('--force'));
      if (!out.ok) return badUse(out.kind === 'unsupported' ? `Unsupported operation: ${out.message}` : out.message);
      const end = await out.done; // blocks like the JMX call does; the decommission itself does not depend on this exec
      return end.ok ? ok('') : failedDecommission(end.message);
    }
  }
  return badUse(`Found unexpected parameters: [${args.join(', ')}]`);
}

/**
 * A decommission whose streaming failed, as 4.1's nodetool reports it: StorageService.decommission throws
 * RuntimeException("Error while decommissioning node: " + cause), and NodeTool.err prints the root cause
 * and its stack trace on stderr, exit 2 (not badUse: that is IllegalArgument/IllegalState, exit 1).
 */
function failedDecommission(cause: string): ExecResult {
  const message = `Error while decommissioning node: ${cause}`;
  return {
    stdout: '',
    stderr: [
      `error: ${message}`,
      '-- StackTrace --',
      `java.lang.RuntimeException: ${message}`,
      '\tat org.apache.cassandra.service.StorageService.decommission(StorageService.java:5061)',
      '\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)',
      '\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke(NativeMethodAccessorImpl.java:62)',
      '\tat java.base/java.lang.reflect.Method.invoke(Method.java:566)',
      '\tat java.management/com.sun.jmx.mbeanserver.JmxMBeanServer.invoke(JmxMBeanServer.java:809)',
      '',
    ].join('\n'),
    exitCode: 2,
  };
}

function usage(): string {
  return [
    'usage: nodetool [(-h <host> | --host <host>)] [(-p <port> | --port <port>)]',
    '        [(-pp | --print-port)] <command> [<args>]',
    '',
    'The most commonly used nodetool commands are (in this simulator):',
    '    decommission      Decommission the *node I am connecting to*',
    '    describecluster   Print the name, snitch, partitioner and schema version of a cluster',
    '    info              Print node information (uptime, load, ...)',
    '    netstats          Print network information on provided host (connecting node by default)',
    '    status            Print cluster information (state, load, IDs, ...)',
    '    version           Print cassandra version',
    '',
    "See 'nodetool help <command>' for more information on a specific command.",
    '',
  ].join('\n');
}

const addr = (m: Member, printPort: boolean): string => (printPort ? `${m.address}:7000` : m.address);
const minToken = (m: Member): bigint => m.tokens.reduce((a, b) => (b < a ? b : a));

function status(model: RingModel, ring: Ring, keyspace: string | undefined, printPort: boolean): ExecResult {
  let ownership: Map<string, number> | undefined;
  let note = '';
  if (keyspace !== undefined) {
    const ks = ring.keyspaces.find((k) => k.name === keyspace);
    if (!ks) return { stdout: `\nError: The keyspace ${keyspace}, does not exist\n`, stderr: '', exitCode: 1 };
    if (isLocal(ks)) note = 'Ownership information does not include topology; for complete information, specify a keyspace';
    else ownership = model.effectiveOwnership(ring, ks);
  } else {
    const user = ring.keyspaces.filter((k) => !isSystem(k) && !isLocal(k));
    const first = user[0] ?? ring.keyspaces.find((k) => k.name === 'system_traces');
    if (user.some((k) => !sameReplication(k, user[0]!))) {
      note = "Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless";
    } else if (first) ownership = model.effectiveOwnership(ring, first);
  }
  const members = model.visible(ring).sort((a, b) => (minToken(a) < minToken(b) ? -1 : minToken(a) > minToken(b) ? 1 : 0));
  const rows: string[][] = [['--', 'Address', 'Load', 'Tokens', ownership ? 'Owns (effective)' : 'Owns', 'Host ID', 'Rack']];
  for (const m of members) {
    const st = model.isUp(m) ? 'U' : 'D';
    const state = m.mode === 'JOINING' ? 'J' : m.mode === 'LEAVING' ? 'L' : 'N';
    const owns = ownership?.get(m.hostId);
    rows.push([st + state, addr(m, printPort), stringifyFileSize(m.loadBytes), String(m.tokens.length), owns === undefined ? '?' : percent(owns), m.hostId, m.rack]);
  }
  const header = `Datacenter: ${ring.datacenter}`;
  const out = `${header}\n${'='.repeat(header.length)}\nStatus=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n${tableBuilder(rows)}\n${note ? `Note: ${note}\n` : ''}`;
  return ok(out);
}

function netstats(m: Member, printPort: boolean, human: boolean): string {
  const lines: string[] = [`Mode: ${m.mode}`];
  const s = m.stream;
  if (!s) lines.push('Not sending any streams.');
  else {
    lines.push(`${s.operation} ${s.planId}`);
    for (const p of s.peers) {
      const peer = `/${printPort ? `${p.address}:7000` : p.address}`;
      lines.push(`    ${peer}`);
      const pf = p.files ? (p.sentFiles / p.files) * 100 : 0;
      const pb = p.bytes ? (p.sentBytes / p.bytes) * 100 : 0;
      if (human) {
        lines.push(`        Sending ${p.files} files, ${stringifyFileSize(p.bytes)} total. Already sent ${p.sentFiles} files (${pf.toFixed(2)}%), ${stringifyFileSize(p.sentBytes)} total (${pb.toFixed(2)}%)`);
      } else {
        lines.push(`        Sending ${p.files} files, ${p.bytes} bytes total. Already sent ${p.sentFiles} files (${pf.toFixed(2)}%), ${p.sentBytes} bytes total (${pb.toFixed(2)}%) `);
      }
      if (p.sentFiles < p.files) {
        // the file in flight
        const fileBytes = Math.max(1, Math.floor(p.bytes / p.files));
        const cur = Math.min(fileBytes, Math.max(0, p.sentBytes - p.sentFiles * fileBytes));
        const gen = 1000 + p.sentFiles;
        lines.push(`            /var/lib/cassandra/data/shop/orders-6a1f3e40b2c811eebd2d3f9a1c0e8a5d/nb-${gen}-big-Data.db ${cur}/${fileBytes} bytes (${Math.floor((cur * 100) / fileBytes)}%) sent to idx:0${peer}`);
      }
    }
  }
  const completed = Math.floor((Date.now() - m.startedAt) / 7) + 1000;
  lines.push('Read Repair Statistics:', 'Attempted: 0', 'Mismatch (Blocking): 0', 'Mismatch (Background): 0');
  const row = (a: string, b: string, c: string, d: string, e: string) => `${a.padEnd(25)}${b.padStart(10)}${c.padStart(10)}${d.padStart(15)}${e.padStart(10)}`;
  lines.push(row('Pool Name', 'Active', 'Pending', 'Completed', 'Dropped'));
  lines.push(row('Large messages', 'n/a', '0', String(Math.floor(completed / 500)), '0'));
  lines.push(row('Small messages', 'n/a', '0', String(completed * 3), '0'));
  lines.push(row('Gossip messages', 'n/a', '0', String(Math.floor(completed / 2)), '0'));
  return lines.join('\n') + '\n';
}

function info(m: Member, withTokens: boolean): string {
  const live = m.mode !== 'DECOMMISSIONED';
  const joined = m.mode === 'NORMAL' || m.mode === 'LEAVING';
  const f = (k: string, v: string | number | boolean) => `${k.padEnd(23)}: ${String(v)}`;
  const uptime = Math.floor((Date.now() - m.startedAt) / 1000);
  const lines = [
    f('ID', m.hostId),
    f('Gossip active', live),
    f('Native Transport active', m.mode === 'NORMAL' || m.mode === 'LEAVING'),
    f('Load', stringifyFileSize(m.loadBytes)),
    f('Generation No', m.generation),
    f('Uptime (seconds)', uptime),
    f('Heap Memory (MB)', '2841.57 / 8192.00'),
    f('Off Heap Memory (MB)', '112.40'),
    f('Data Center', m.datacenter),
    f('Rack', m.rack),
    f('Exceptions', 0),
    f('Key Cache', 'entries 48213, size 4.17 MiB, capacity 100 MiB, 1838120 hits, 2011402 requests, 0.914 recent hit rate, 14400 save period in seconds'),
    f('Row Cache', 'entries 0, size 0 bytes, capacity 0 bytes, 0 hits, 0 requests, NaN recent hit rate, 0 save period in seconds'),
    f('Counter Cache', 'entries 0, size 0 bytes, capacity 50 MiB, 0 hits, 0 requests, NaN recent hit rate, 7200 save period in seconds'),
    f('Network Cache', 'size 8 MiB, overflow size: 0 bytes, capacity 128 MiB'),
    f('Percent Repaired', '0.0%'),
  ];
  if (!joined) lines.push(f('Token', '(node is not joined to the cluster)'));
  else if (withTokens) for (const t of [...m.tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(f('Token', t.toString()));
  else lines.push(f('Token', `(invoke with -T/--tokens to see all ${m.tokens.length} tokens)`));
  return lines.join('\n') + '\n';
}

function describecluster(model: RingModel, ring: Ring, printPort: boolean): string {
  const members = model.visible(ring);
  const up = members.filter((m) => model.isUp(m));
  const lines = [
    'Cluster Information:',
    `\tName: ${ring.clusterName}`,
    '\tSnitch: org.apache.cassandra.locator.GossipingPropertyFileSnitch',
    '\tDynamicEndPointSnitch: enabled',
    '\tPartitioner: org.apache.cassandra.dht.Murmur3Partitioner',
    '\tSchema versions:',
    `\t\t${ring.schemaVersion}: [${up.map((m) => addr(m, printPort)).join(', ')}]`,
    '',
  ];
  if (members.length > up.length) lines.splice(lines.length - 1, 0, `\t\tUNREACHABLE: [${members.filter((m) => !up.includes(m)).map((m) => addr(m, printPort)).join(', ')}]`);
  lines.push(
    'Stats for all nodes:',
    `\tLive: ${up.length}`,
    `\tJoining: ${members.filter((m) => m.mode === 'JOINING').length}`,
    '\tMoving: 0',
    `\tLeaving: ${members.filter((m) => m.mode === 'LEAVING').length}`,
    `\tUnreachable: ${members.length - up.length}`,
    '',
    'Data Centers: ',
    `\t${ring.datacenter} #Nodes: ${members.length} #Down: ${members.length - up.length}`,
    '',
    'Database versions:',
    `\t${CASSANDRA_VERSION}: [${members.map((m) => `${m.address}:7000`).join(', ')}]`,
    '',
    'Keyspaces:',
    ...ring.keyspaces.map((k) => {
      const factors = Object.entries(k.replication).filter(([x]) => x !== 'class').map(([x, v]) => `${x}=${v}`).join(', ');
      return `\t${k.name} -> Replication class: ${shortClass(k)} {${factors}}`;
    }),
  );
  return lines.join('\n') + '\n';
}

// ---- cqlsh ----

const CQLSH_WITH_VALUE = new Set(['-u', '--username', '-p', '--password', '-k', '--keyspace', '-f', '--file', '--cqlversion', '--protocol-version', '--connect-timeout', '--request-timeout', '--encoding', '--cqlshrc', '--consistency-level', '--serial-consistency-level']);
const KEYSPACE_COLUMNS = ['keyspace_name', 'durable_writes', 'replication'];

export function cqlsh(model: RingModel, ring: Ring | undefined, member: Member | undefined, argv: string[]): ExecResult {
  let statement: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--execute') statement = argv[++i];
    else if (a.startsWith('--execute=')) statement = a.slice('--execute='.length);
    else if (CQLSH_WITH_VALUE.has(a)) i++;
  }
  const host = member?.address ?? '127.0.0.1';
  if (!ring || !member || !(member.mode === 'NORMAL' || member.mode === 'LEAVING')) {
    return {
      stdout: '',
      stderr: `Connection error: ('Unable to connect to any servers', {'${host}:9042': ConnectionRefusedError(111, "Tried connecting to [('${host}', 9042)]. Last error: Connection refused")})\n`,
      exitCode: 1,
    };
  }
  if (statement === undefined) return { stdout: '', stderr: 'cqlsh: the simulator only runs statements given with -e/--execute\n', exitCode: 2 };
  const err = (msg: string): ExecResult => ({ stdout: '', stderr: `<stdin>:1:${msg}\n`, exitCode: 2 });
  const q = statement.trim().replace(/;\s*$/, '').replace(/\s+/g, ' ');
  if (/^desc(ribe)? keyspaces$/i.test(q)) return ok(`\n${ring.keyspaces.map((k) => k.name).join('  ')}\n\n`);
  const m = /^select (.+?) from system_schema\.keyspaces(?: where keyspace_name ?= ?'([^']*)')?$/i.exec(q);
  if (!m) return err(`InvalidRequest: Error from server: code=2200 [Invalid query] message="the simulated cqlsh only answers SELECT ... FROM system_schema.keyspaces [WHERE keyspace_name = '...'] and DESCRIBE KEYSPACES"`);
  const cols = m[1]!.trim() === '*' ? KEYSPACE_COLUMNS : m[1]!.split(',').map((c) => c.trim().toLowerCase());
  const bad = cols.find((c) => !KEYSPACE_COLUMNS.includes(c));
  if (bad) return err(`InvalidRequest: Error from server: code=2200 [Invalid query] message="Undefined column name ${bad} in table system_schema.keyspaces"`);
  const rows = ring.keyspaces
    .filter((k) => m[2] === undefined || k.name === m[2])
    .map((k) => cols.map((c) => (c === 'keyspace_name' ? k.name : c === 'durable_writes' ? k.durableWrites : k.replication)));
  return ok(cqlshTable(cols, rows));
}
