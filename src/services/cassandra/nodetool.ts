// Parsers for the text Cassandra's tools print (formats of Apache Cassandra 4.x: nodetool status,
// netstats, info, and cqlsh's table output). Pure: the Cassandra adapter execs the commands in the
// member's pod and hands the output here. Parsers are lenient about spacing and unknown lines,
// strict about what they rely on: a line that looks like a member row but does not parse is an error,
// never silently dropped (a member missing from the ring view would look like "already left").

import type { MemberMode } from '../../core/decommission.js';

export class NodetoolParseError extends Error {
  constructor(what: string, detail: string) {
    super(`cannot parse ${what}: ${detail}`);
    this.name = 'NodetoolParseError';
  }
}

// ---- nodetool status -------------------------------------------------------------------------

export type RingStatus = 'Up' | 'Down';
export type RingState = 'Normal' | 'Leaving' | 'Joining' | 'Moving';

export interface StatusRow {
  datacenter: string;
  status: RingStatus;
  state: RingState;
  /** As printed, without the port (nodetool -pp prints address:port). */
  address: string;
  port?: number;
  /** Load as printed ("104.55 KiB", "?" when down). */
  load: string;
  loadBytes?: number;
  tokens: number;
  /** Ownership percentage, undefined when printed as "?". */
  owns?: number;
  hostId: string;
  rack: string;
}

export interface NodetoolStatus {
  datacenters: string[];
  members: StatusRow[];
  /** Whether "Owns" was effective ownership (a keyspace given, or all keyspaces replicated alike). */
  effectiveOwnership: boolean;
}

const STATUS_CODE: Record<string, RingStatus> = { U: 'Up', D: 'Down' };
const STATE_CODE: Record<string, RingState> = { N: 'Normal', L: 'Leaving', J: 'Joining', M: 'Moving' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `nodetool status`:
 *
 *     Datacenter: datacenter1
 *     =======================
 *     Status=Up/Down
 *     |/ State=Normal/Leaving/Joining/Moving
 *     --  Address     Load        Tokens  Owns (effective)  Host ID                               Rack
 *     UN  10.244.1.5  104.55 KiB  16      76.0%             6d194555-f6eb-41d0-c000-000000000001  rack1
 */
export function parseNodetoolStatus(text: string): NodetoolStatus {
  const datacenters: string[] = [];
  const members: StatusRow[] = [];
  let dc: string | undefined;
  let effectiveOwnership = false;
  let sawHeader = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const dcMatch = /^Datacenter:\s*(.+)$/.exec(line);
    if (dcMatch) {
      dc = dcMatch[1]!.trim();
      datacenters.push(dc);
      continue;
    }
    if (/^--\s+Address\s+/.test(line)) {
      sawHeader = true;
      if (/Owns \(effective\)/.test(line)) effectiveOwnership = true;
      continue;
    }
    if (!/^[UD][NLJM]\s/.test(line)) continue;
    if (dc === undefined) throw new NodetoolParseError('nodetool status', `member row before any "Datacenter:" line: ${JSON.stringify(line)}`);
    const t = line.split(/\s+/);
    // code, address, load (1-2 words), tokens, owns, host id, rack
    if (t.length < 7) throw new NodetoolParseError('nodetool status', `too few columns in ${JSON.stringify(line)}`);
    const n = t.length;
    const rack = t[n - 1]!;
    const hostId = t[n - 2]!;
    const owns = t[n - 3]!;
    const tokens = t[n - 4]!;
    const load = t.slice(2, n - 4).join(' ');
    if (!UUID.test(hostId)) throw new NodetoolParseError('nodetool status', `expected a host ID in ${JSON.stringify(line)}`);
    if (!/^\d+$/.test(tokens)) throw new NodetoolParseError('nodetool status', `expected a token count in ${JSON.stringify(line)}`);
    if (owns !== '?' && !/^\d+(\.\d+)?%$/.test(owns)) throw new NodetoolParseError('nodetool status', `expected an ownership percentage in ${JSON.stringify(line)}`);
    const code = t[0]!;
    const { address, port } = splitAddress(t[1]!);
    members.push({
      datacenter: dc,
      status: STATUS_CODE[code[0]!]!,
      state: STATE_CODE[code[1]!]!,
      address,
      ...(port !== undefined ? { port } : {}),
      load,
      ...(parseSize(load) !== undefined ? { loadBytes: parseSize(load) } : {}),
      tokens: Number(tokens),
      ...(owns !== '?' ? { owns: Number(owns.slice(0, -1)) } : {}),
      hostId: hostId.toLowerCase(),
      rack,
    });
  }
  if (!sawHeader && members.length === 0) {
    throw new NodetoolParseError('nodetool status', `no "Datacenter:" table in output: ${JSON.stringify(text.slice(0, 200))}`);
  }
  return { datacenters, members, effectiveOwnership };
}

/** "10.0.0.1", "/10.0.0.1", "10.0.0.1:7000", "/10.0.0.1:7000", "[::1]:7000", "::1". */
export function splitAddress(s: string): { address: string; port?: number } {
  let a = s.trim().replace(/^\//, '');
  // "hostname/10.0.0.1" (InetAddress.toString with a resolved name): keep the address
  if (a.includes('/')) a = a.slice(a.lastIndexOf('/') + 1);
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(a);
  if (v6) return { address: v6[1]!, ...(v6[2] ? { port: Number(v6[2]) } : {}) };
  const v4 = /^([^:]+):(\d+)$/.exec(a);
  if (v4) return { address: v4[1]!, port: Number(v4[2]) };
  return { address: a };
}

const SIZE_UNITS: Record<string, number> = {
  bytes: 1,
  b: 1,
  kib: 1024,
  kb: 1024,
  mib: 1024 ** 2,
  mb: 1024 ** 2,
  gib: 1024 ** 3,
  gb: 1024 ** 3,
  tib: 1024 ** 4,
  tb: 1024 ** 4,
};

/** Sizes as FileUtils.stringifyFileSize prints them ("104.55 KiB", "512 bytes"; older "1.2 MB", "1.2MB"). */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i.exec(s.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'bytes').toLowerCase();
  const mult = SIZE_UNITS[unit];
  return mult === undefined ? undefined : Math.round(Number(m[1]) * mult);
}

// ---- nodetool netstats -----------------------------------------------------------------------

/** StorageService.Mode, as `nodetool netstats` prints it on its first line. */
export type OperationMode = Exclude<MemberMode, 'UNREACHABLE'>;

const MODES = new Set<string>(['STARTING', 'NORMAL', 'JOINING', 'JOINING_FAILED', 'LEAVING', 'DECOMMISSIONED', 'DECOMMISSION_FAILED', 'MOVING', 'DRAINING', 'DRAINED']);

export interface TransferTotals {
  files: number;
  bytes: number;
  filesDone: number;
  bytesDone: number;
}

export interface StreamSession {
  peer: string;
  sending?: TransferTotals;
  receiving?: TransferTotals;
}

export interface StreamPlan {
  /** "Unbootstrap" for a decommission, "Bootstrap", "Repair", "Rebuild", ... */
  description: string;
  planId: string;
  sessions: StreamSession[];
}

export interface Netstats {
  mode: OperationMode;
  streams: StreamPlan[];
  /** Sum over every session of every plan. */
  sending: TransferTotals;
  receiving: TransferTotals;
  /** netstats printed "Not sending any streams.": the member has no stream session at all. */
  notSending: boolean;
}

// 4.1 prints percentages after the counts ("Already sent 2 files (50.00%), 367001 bytes total (43.00%)"); 3.x/4.0 do not.
const TRANSFER = /^(Sending|Receiving) (\d+) files, (.+?) total\. Already (?:sent|received) (\d+) files(?: \([^)]*\))?, (.+?) total(?: \([^)]*\))?$/;

/**
 * `nodetool netstats` (bytes as numbers, or with -H as sizes):
 *
 *     Mode: LEAVING
 *     Unbootstrap 5f2a3b60-7d7c-11ee-9c6f-3b4c1e0a9d11
 *         10.244.2.7
 *             Sending 3 files, 1048576 bytes total. Already sent 1 files (33.33%), 262144 bytes total (25.00%)
 *                 /var/lib/cassandra/data/shop/orders-.../nb-1-big-Data.db 262144/262144 bytes (100%) sent to idx:0/10.244.2.7
 *     Read Repair Statistics:
 *     ...
 */
export function parseNetstats(text: string): Netstats {
  const lines = text.split(/\r?\n/);
  let mode: OperationMode | undefined;
  const streams: StreamPlan[] = [];
  let plan: StreamPlan | undefined;
  let session: StreamSession | undefined;
  let inStreams = false;
  let notSending = false;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trimEnd();
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const modeMatch = /^Mode:\s*(\S+)/.exec(trimmed);
    if (modeMatch && mode === undefined) {
      // nodetool ends every line: an unterminated mode line was cut short (JOINING_FAILED → "JOINING").
      if (i === lines.length - 1) throw new NodetoolParseError('nodetool netstats', `output ends inside the "Mode:" line: ${JSON.stringify(trimmed)}`);
      const m = modeMatch[1]!.toUpperCase();
      if (!MODES.has(m)) throw new NodetoolParseError('nodetool netstats', `unknown mode ${JSON.stringify(modeMatch[1])}`);
      mode = m as OperationMode;
      inStreams = true;
      continue;
    }
    if (!inStreams) continue;
    if (trimmed === 'Not sending any streams.') {
      notSending = true;
      continue;
    }
    if (/^Read Repair Statistics:/.test(trimmed) || /^Pool Name\s/.test(trimmed)) {
      inStreams = false;
      continue;
    }
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      const p = /^(.+?)\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(trimmed);
      if (!p) continue; // not a stream plan header; ignore
      plan = { description: p[1]!, planId: p[2]!.toLowerCase(), sessions: [] };
      streams.push(plan);
      session = undefined;
      continue;
    }
    const transfer = TRANSFER.exec(trimmed);
    if (!transfer && /^(Sending|Receiving) \d+ files/.test(trimmed)) {
      throw new NodetoolParseError('nodetool netstats', `unrecognised transfer line ${JSON.stringify(trimmed)}`);
    }
    if (transfer) {
      if (!session) throw new NodetoolParseError('nodetool netstats', `transfer line outside a session: ${JSON.stringify(trimmed)}`);
      const bytes = parseSize(transfer[3]!);
      const bytesDone = parseSize(transfer[5]!);
      if (bytes === undefined || bytesDone === undefined) throw new NodetoolParseError('nodetool netstats', `bad sizes in ${JSON.stringify(trimmed)}`);
      const totals: TransferTotals = { files: Number(transfer[2]), bytes, filesDone: Number(transfer[4]), bytesDone };
      if (transfer[1] === 'Sending') session.sending = totals;
      else session.receiving = totals;
      continue;
    }
    // A session's peer: "/10.0.0.2:7000" optionally followed by " (using /192.168.0.2:7000)"
    const peer = /^(\S*\/?[0-9a-f.:[\]]+)(?:\s+\(using\s+\S+\))?$/i.exec(trimmed);
    if (plan && indent <= 6 && peer) {
      session = { peer: splitAddress(peer[1]!).address };
      plan.sessions.push(session);
      continue;
    }
    // per-file progress lines and anything else: not needed
  }
  if (mode === undefined) throw new NodetoolParseError('nodetool netstats', `no "Mode:" line in output: ${JSON.stringify(text.slice(0, 200))}`);
  const zero = (): TransferTotals => ({ files: 0, bytes: 0, filesDone: 0, bytesDone: 0 });
  const sending = zero();
  const receiving = zero();
  for (const s of streams.flatMap((p) => p.sessions)) {
    for (const [acc, t] of [
      [sending, s.sending],
      [receiving, s.receiving],
    ] as const) {
      if (!t) continue;
      acc.files += t.files;
      acc.bytes += t.bytes;
      acc.filesDone += t.filesDone;
      acc.bytesDone += t.bytesDone;
    }
  }
  return { mode, streams, sending, receiving, notSending };
}

// ---- nodetool info ---------------------------------------------------------------------------

export interface NodetoolInfo {
  hostId: string;
  gossipActive?: boolean;
  nativeTransportActive?: boolean;
  load?: string;
  datacenter?: string;
  rack?: string;
  uptimeSeconds?: number;
  /** Every "Key : value" line, as printed. */
  fields: Record<string, string>;
}

/**
 * `nodetool info`:
 *
 *     ID                     : 6d194555-f6eb-41d0-c000-000000000001
 *     Gossip active          : true
 *     Native Transport active: true
 *     Load                   : 104.55 KiB
 *     ...
 *     Data Center            : datacenter1
 *     Rack                   : rack1
 */
export function parseNodetoolInfo(text: string): NodetoolInfo {
  const fields: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^([A-Za-z][^:]*?)\s*:\s?(.*)$/.exec(raw.trim());
    if (m) fields[m[1]!] = m[2]!.trim();
  }
  const hostId = fields['ID'];
  if (!hostId || !UUID.test(hostId)) throw new NodetoolParseError('nodetool info', `no host "ID" line in output: ${JSON.stringify(text.slice(0, 200))}`);
  const bool = (k: string) => (fields[k] === undefined ? undefined : fields[k] === 'true');
  const uptime = fields['Uptime (seconds)'];
  const info: NodetoolInfo = { hostId: hostId.toLowerCase(), fields };
  const gossip = bool('Gossip active');
  const native = bool('Native Transport active');
  if (gossip !== undefined) info.gossipActive = gossip;
  if (native !== undefined) info.nativeTransportActive = native;
  if (fields['Load'] !== undefined) info.load = fields['Load'];
  if (fields['Data Center'] !== undefined) info.datacenter = fields['Data Center'];
  if (fields['Rack'] !== undefined) info.rack = fields['Rack'];
  if (uptime !== undefined && /^\d+$/.test(uptime)) info.uptimeSeconds = Number(uptime);
  return info;
}

// ---- cqlsh tables ----------------------------------------------------------------------------

/**
 * cqlsh's tabular output (`cqlsh -e "SELECT ..."`): a header row, a "----+----" rule, right-aligned
 * values separated by " | ", then "(N rows)". Returns one record per row, keyed by column name.
 */
export function parseCqlshTable(text: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/);
  const rule = lines.findIndex((l) => /^-+(\+-+)*$/.test(l.trim()) && l.includes('-'));
  if (rule < 1) throw new NodetoolParseError('cqlsh output', `no table header in ${JSON.stringify(text.slice(0, 200))}`);
  const header = lines[rule - 1]!;
  const columns = header.split('|').map((c) => c.trim());
  if (columns.some((c) => c === '')) throw new NodetoolParseError('cqlsh output', `bad header ${JSON.stringify(header)}`);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(rule + 1)) {
    if (line.trim() === '' || /^\(\d+ rows?\)$/.test(line.trim())) break;
    const cells = splitCqlshRow(line, columns.length);
    if (!cells) throw new NodetoolParseError('cqlsh output', `row does not have ${columns.length} columns: ${JSON.stringify(line)}`);
    rows.push(Object.fromEntries(columns.map((c, i) => [c, cells[i]!])));
  }
  return rows;
}

/** Split on " | " outside quotes and braces (a text value may itself contain "|"). */
function splitCqlshRow(line: string, n: number): string[] | undefined {
  const cells: string[] = [];
  let cur = '';
  let quote = false;
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") quote = !quote;
    else if (!quote && (ch === '{' || ch === '[')) depth++;
    else if (!quote && (ch === '}' || ch === ']')) depth--;
    if (ch === '|' && !quote && depth === 0) {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return cells.length === n ? cells : undefined;
}

/** A CQL map literal as cqlsh prints it: {'class': '...SimpleStrategy', 'replication_factor': '3'}. */
export function parseCqlMap(s: string): Record<string, string> {
  const t = s.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw new NodetoolParseError('CQL map', JSON.stringify(s));
  const out: Record<string, string> = {};
  const re = /'((?:[^']|'')*)'\s*:\s*'((?:[^']|'')*)'/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) out[m[1]!.replace(/''/g, "'")] = m[2]!.replace(/''/g, "'");
  return out;
}

export interface KeyspaceReplication {
  keyspace: string;
  /** Short class name: SimpleStrategy, NetworkTopologyStrategy, LocalStrategy, EverywhereStrategy, ... */
  strategy: string;
  /** SimpleStrategy: the factor for the whole ring. */
  replicationFactor?: number;
  /** NetworkTopologyStrategy: factor per datacenter. */
  perDatacenter?: Record<string, number>;
}

/** "3", or "3/1" (3 replicas of which 1 transient): the number of replicas. */
function replicas(v: string, what: string): number {
  const m = /^(\d+)(?:\/\d+)?$/.exec(v.trim());
  if (!m) throw new NodetoolParseError('replication', `${what}: expected a replication factor, got ${JSON.stringify(v)}`);
  return Number(m[1]);
}

/** Rows of `SELECT keyspace_name, replication FROM system_schema.keyspaces`. */
export function parseKeyspaceReplication(text: string): KeyspaceReplication[] {
  return parseCqlshTable(text).map((row) => {
    const keyspace = row['keyspace_name'];
    const replication = row['replication'];
    if (keyspace === undefined || replication === undefined) {
      throw new NodetoolParseError('cqlsh output', 'expected columns keyspace_name and replication');
    }
    const map = parseCqlMap(replication);
    const strategy = (map['class'] ?? '').split('.').pop() ?? '';
    const ks: KeyspaceReplication = { keyspace, strategy };
    if (strategy === 'SimpleStrategy') {
      ks.replicationFactor = replicas(map['replication_factor'] ?? '', `keyspace ${keyspace}`);
    } else if (strategy === 'NetworkTopologyStrategy') {
      ks.perDatacenter = Object.fromEntries(
        Object.entries(map)
          .filter(([k]) => k !== 'class' && k !== 'replication_factor')
          .map(([k, v]) => [k, replicas(v, `keyspace ${keyspace} datacenter ${k}`)]),
      );
    }
    return ks;
  });
}
