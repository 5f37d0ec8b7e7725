// Parsers against output in the formats Apache Cassandra 4.1's nodetool and cqlsh print.
import { describe, expect, it } from 'vitest';
import {
  parseCqlMap,
  parseKeyspaceReplication,
  parseNetstats,
  parseNodetoolInfo,
  parseNodetoolStatus,
  parseSize,
  splitAddress,
} from '../../../src/services/cassandra/nodetool.js';

const STATUS_LEAVING = `Datacenter: datacenter1
=======================
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address      Load        Tokens  Owns (effective)  Host ID                               Rack 
UN  10.244.1.12  1.12 MiB    16      74.9%             3b5e0f8e-2f6c-4d1e-9d4b-6a0e9b7c1a01  rack1
UN  10.244.2.8   1.09 MiB    16      75.3%             8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e02  rack1
UN  10.244.3.5   987.45 KiB  16      74.6%             a7f4b2c1-9d8e-4f7a-b6c5-d4e3f2a1b003  rack1
UL  10.244.1.13  1.1 MiB     16      75.2%             f1e2d3c4-b5a6-4978-8695-a4b3c2d1e004  rack1

`;

const STATUS_TWO_DCS = `Datacenter: dc1
===============
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address          Load       Tokens  Owns  Host ID                               Rack
UN  10.0.1.10:7000   2.48 GiB   256     ?     8f4b4df0-38e9-4d76-8df8-609bb8e36a11  r1
DN  10.0.1.11:7000   ?          256     ?     b11f8fb4-7cf3-40b9-a8f6-ff1b1e65ac21  r2

Datacenter: dc2
===============
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address          Load       Tokens  Owns  Host ID                               Rack
UJ  10.0.2.10:7000   512 bytes  256     ?     e8b7f3c3-f0b6-44b0-a16f-5c72ad76a345  r1

Note: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless
`;

const NETSTATS_NORMAL = `Mode: NORMAL
Not sending any streams.
Read Repair Statistics:
Attempted: 0
Mismatch (Blocking): 0
Mismatch (Background): 0
Pool Name                    Active   Pending      Completed   Dropped
Large messages                  n/a         0              0         0
Small messages                  n/a         0            112         0
Gossip messages                 n/a         0           1288         0
`;

/** Cassandra 4.1: percentages after the counts, peers without a leading slash. */
const NETSTATS_LEAVING = `Mode: LEAVING
Unbootstrap 6a5e2b10-8c4f-11ee-b962-0242ac120002
    10.244.2.8
        Sending 4 files, 734003 bytes total. Already sent 2 files (50.00%), 367001 bytes total (50.00%)
            /var/lib/cassandra/data/shop/orders-1b2c3d4e5f6011ee9a0b0242ac120002/nb-3-big-Data.db 1200/183500 bytes (0%) sent to idx:0/10.244.2.8
    10.244.3.5
        Sending 2 files, 120000 bytes total. Already sent 0 files (0.00%), 0 bytes total (0.00%)
            /var/lib/cassandra/data/shop/carts-2c3d4e5f6a7011ee9a0b0242ac120002/nb-1-big-Data.db 0/60000 bytes (0%) sent to idx:0/10.244.3.5
Read Repair Statistics:
Attempted: 0
Mismatch (Blocking): 0
Mismatch (Background): 0
Pool Name                    Active   Pending      Completed   Dropped
Large messages                  n/a         0              3         0
Small messages                  n/a         0            240         0
Gossip messages                 n/a         0           1402         0
`;

/** Cassandra 3.11/4.0: no percentages, peers as InetAddress.toString() ("/10.244.2.8"). */
const NETSTATS_LEAVING_40 = `Mode: LEAVING
Unbootstrap 6a5e2b10-8c4f-11ee-b962-0242ac120002
    /10.244.2.8
        Sending 4 files, 734003 bytes total. Already sent 2 files, 367001 bytes total
            /var/lib/cassandra/data/shop/orders-1b2c3d4e5f6011ee9a0b0242ac120002/nb-1-big-Data.db 201326/201326 bytes(100%) sent to idx:0/10.244.2.8
Read Repair Statistics:
Attempted: 0
Mismatch (Blocking): 0
Mismatch (Background): 0
`;

const NETSTATS_LEAVING_HUMAN = `Mode: LEAVING
Unbootstrap 6a5e2b10-8c4f-11ee-b962-0242ac120002
    10.244.2.8:7000 (using 192.168.7.8:7000)
        Sending 4 files, 716.8 KiB total. Already sent 2 files (50.00%), 358.4 KiB total (50.00%)
Read Repair Statistics:
Attempted: 0
Mismatch (Blocking): 0
Mismatch (Background): 0
`;

const NETSTATS_RECEIVING = `Mode: NORMAL
Unbootstrap 6a5e2b10-8c4f-11ee-b962-0242ac120002
    10.244.1.13
        Receiving 4 files, 734003 bytes total. Already received 2 files (50.00%), 367001 bytes total (50.00%)
            /var/lib/cassandra/data/shop/orders-1b2c3d4e5f6011ee9a0b0242ac120002/nb-5-big-Data.db 201326/201326 bytes (100%) received from idx:0/10.244.1.13
Read Repair Statistics:
Attempted: 0
Mismatch (Blocking): 0
Mismatch (Background): 0
`;

const NETSTATS_DECOMMISSIONED = `Mode: DECOMMISSIONED
Not sending any streams.
Read Repair Statistics:
Attempted: 0
Mismatch (Blocking): 0
Mismatch (Background): 0
Pool Name                    Active   Pending      Completed   Dropped
Large messages                  n/a         0              3         0
Small messages                  n/a         0            251         0
Gossip messages                 n/a         0           1460         0
`;

const INFO = `ID                     : 3b5e0f8e-2f6c-4d1e-9d4b-6a0e9b7c1a01
Gossip active          : true
Native Transport active: true
Load                   : 1.12 MiB
Generation No          : 1700000000
Uptime (seconds)       : 86400
Heap Memory (MB)       : 512.31 / 2048.00
Off Heap Memory (MB)   : 0.01
Data Center            : datacenter1
Rack                   : rack1
Exceptions             : 0
Key Cache              : entries 22, size 1.84 KiB, capacity 102 MiB, 118 hits, 148 requests, 0.797 recent hit rate, 14400 save period in seconds
Row Cache              : entries 0, size 0 bytes, capacity 0 bytes, 0 hits, 0 requests, NaN recent hit rate, 0 save period in seconds
Counter Cache          : entries 0, size 0 bytes, capacity 51 MiB, 0 hits, 0 requests, NaN recent hit rate, 7200 save period in seconds
Network Cache          : size 8 MiB, overflow size: 0 bytes, capacity 128 MiB
Percent Repaired       : 0.0%
Token                  : (invoke with -T/--tokens to see all 16 tokens)
`;

const KEYSPACES = `
 keyspace_name      | replication
--------------------+-------------------------------------------------------------------------------------
        system_auth | {'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': '1'}
      system_schema |                             {'class': 'org.apache.cassandra.locator.LocalStrategy'}
 system_distributed | {'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': '3'}
             system |                             {'class': 'org.apache.cassandra.locator.LocalStrategy'}
      system_traces | {'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': '2'}
               shop | {'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'datacenter1': '3'}
          analytics | {'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc1': '3', 'dc2': '2/1'}

(7 rows)
`;

describe('nodetool status', () => {
  it('reads every member with its state, load, ownership and host ID', () => {
    const s = parseNodetoolStatus(STATUS_LEAVING);
    expect(s.datacenters).toEqual(['datacenter1']);
    expect(s.effectiveOwnership).toBe(true);
    expect(s.members).toHaveLength(4);
    expect(s.members[0]).toEqual({
      datacenter: 'datacenter1',
      status: 'Up',
      state: 'Normal',
      address: '10.244.1.12',
      load: '1.12 MiB',
      loadBytes: Math.round(1.12 * 1024 * 1024),
      tokens: 16,
      owns: 74.9,
      hostId: '3b5e0f8e-2f6c-4d1e-9d4b-6a0e9b7c1a01',
      rack: 'rack1',
    });
    expect(s.members[2]!.loadBytes).toBe(Math.round(987.45 * 1024));
    expect(s.members[3]).toMatchObject({ status: 'Up', state: 'Leaving', address: '10.244.1.13' });
  });

  it('reads several datacenters, down members, unknown load and ownership, and addresses with ports', () => {
    const s = parseNodetoolStatus(STATUS_TWO_DCS);
    expect(s.datacenters).toEqual(['dc1', 'dc2']);
    expect(s.effectiveOwnership).toBe(false);
    expect(s.members.map((m) => [m.datacenter, m.status, m.state, m.address, m.port])).toEqual([
      ['dc1', 'Up', 'Normal', '10.0.1.10', 7000],
      ['dc1', 'Down', 'Normal', '10.0.1.11', 7000],
      ['dc2', 'Up', 'Joining', '10.0.2.10', 7000],
    ]);
    expect(s.members[1]!.load).toBe('?');
    expect(s.members[1]!.loadBytes).toBeUndefined();
    expect(s.members[0]!.owns).toBeUndefined();
    expect(s.members[2]!.loadBytes).toBe(512);
  });

  it('refuses output that is not a status table, and member rows it cannot read', () => {
    expect(() => parseNodetoolStatus("nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused'.")).toThrow(/cannot parse nodetool status/);
    expect(() => parseNodetoolStatus(STATUS_LEAVING.replace('3b5e0f8e-2f6c-4d1e-9d4b-6a0e9b7c1a01', 'not-a-host-id'))).toThrow(/expected a host ID/);
  });
});

describe('nodetool netstats', () => {
  it('reads the mode of an idle member', () => {
    const n = parseNetstats(NETSTATS_NORMAL);
    expect(n.mode).toBe('NORMAL');
    expect(n.streams).toEqual([]);
    expect(n.sending).toEqual({ files: 0, bytes: 0, filesDone: 0, bytesDone: 0 });
    expect(n.notSending).toBe(true);
  });

  it('tells a member LEAVING with nothing to send (4.1 after a failed stream) from one that streams', () => {
    const failed = parseNetstats(NETSTATS_NORMAL.replace(/^Mode: NORMAL/, 'Mode: LEAVING'));
    expect(failed).toMatchObject({ mode: 'LEAVING', streams: [], notSending: true });
    expect(parseNetstats(NETSTATS_LEAVING).notSending).toBe(false);
  });

  it('sums what a leaving member sends to every peer', () => {
    const n = parseNetstats(NETSTATS_LEAVING);
    expect(n.mode).toBe('LEAVING');
    expect(n.streams).toHaveLength(1);
    expect(n.streams[0]!.description).toBe('Unbootstrap');
    expect(n.streams[0]!.planId).toBe('6a5e2b10-8c4f-11ee-b962-0242ac120002');
    expect(n.streams[0]!.sessions.map((s) => s.peer)).toEqual(['10.244.2.8', '10.244.3.5']);
    expect(n.sending).toEqual({ files: 6, bytes: 854003, filesDone: 2, bytesDone: 367001 });
    expect(n.receiving.files).toBe(0);
  });

  it('reads the 3.11/4.0 format too', () => {
    const n = parseNetstats(NETSTATS_LEAVING_40);
    expect(n.streams[0]!.sessions.map((s) => s.peer)).toEqual(['10.244.2.8']);
    expect(n.sending).toEqual({ files: 4, bytes: 734003, filesDone: 2, bytesDone: 367001 });
  });

  it('refuses a transfer line it cannot read rather than reporting nothing sent', () => {
    expect(() => parseNetstats(NETSTATS_LEAVING.replace('Already sent 2 files (50.00%)', 'Already shipped 2 files'))).toThrow(/unrecognised transfer line/);
  });

  it('reads human-readable sizes (-H) and private-address sessions', () => {
    const n = parseNetstats(NETSTATS_LEAVING_HUMAN);
    expect(n.streams[0]!.sessions[0]!.peer).toBe('10.244.2.8');
    expect(n.sending).toEqual({ files: 4, bytes: Math.round(716.8 * 1024), filesDone: 2, bytesDone: Math.round(358.4 * 1024) });
  });

  it('tells receiving from sending', () => {
    const n = parseNetstats(NETSTATS_RECEIVING);
    expect(n.mode).toBe('NORMAL');
    expect(n.sending.bytes).toBe(0);
    expect(n.receiving).toEqual({ files: 4, bytes: 734003, filesDone: 2, bytesDone: 367001 });
  });

  it('reads DECOMMISSIONED and refuses output without a mode', () => {
    expect(parseNetstats(NETSTATS_DECOMMISSIONED).mode).toBe('DECOMMISSIONED');
    expect(() => parseNetstats('error: No nodetool connection')).toThrow(/no "Mode:" line/);
    expect(() => parseNetstats('Mode: WANDERING\n')).toThrow(/unknown mode/);
  });

  it('never reads another mode from output cut short (JOINING_FAILED cut after JOINING is not JOINING)', () => {
    for (const mode of ['STARTING', 'NORMAL', 'JOINING', 'JOINING_FAILED', 'LEAVING', 'DECOMMISSIONED', 'DECOMMISSION_FAILED', 'MOVING', 'DRAINING', 'DRAINED']) {
      const full = `Mode: ${mode}\nNot sending any streams.\n`;
      for (let cut = 0; cut <= full.length; cut++) {
        let read: string | undefined;
        try {
          read = parseNetstats(full.slice(0, cut)).mode;
        } catch {
          continue;
        }
        expect(read, `${JSON.stringify(full.slice(0, cut))}`).toBe(mode);
      }
    }
  });
});

describe('nodetool info', () => {
  it('reads the host ID, datacenter and whether gossip runs', () => {
    const i = parseNodetoolInfo(INFO);
    expect(i).toMatchObject({
      hostId: '3b5e0f8e-2f6c-4d1e-9d4b-6a0e9b7c1a01',
      gossipActive: true,
      nativeTransportActive: true,
      load: '1.12 MiB',
      datacenter: 'datacenter1',
      rack: 'rack1',
      uptimeSeconds: 86400,
    });
    expect(i.fields['Network Cache']).toBe('size 8 MiB, overflow size: 0 bytes, capacity 128 MiB');
    expect(parseNodetoolInfo(INFO.replace('Gossip active          : true', 'Gossip active          : false')).gossipActive).toBe(false);
    expect(() => parseNodetoolInfo('Load : 1 KiB')).toThrow(/no host "ID"/);
  });
});

describe('cqlsh keyspaces', () => {
  it('reads the replication of every keyspace', () => {
    const ks = parseKeyspaceReplication(KEYSPACES);
    expect(ks).toEqual([
      { keyspace: 'system_auth', strategy: 'SimpleStrategy', replicationFactor: 1 },
      { keyspace: 'system_schema', strategy: 'LocalStrategy' },
      { keyspace: 'system_distributed', strategy: 'SimpleStrategy', replicationFactor: 3 },
      { keyspace: 'system', strategy: 'LocalStrategy' },
      { keyspace: 'system_traces', strategy: 'SimpleStrategy', replicationFactor: 2 },
      { keyspace: 'shop', strategy: 'NetworkTopologyStrategy', perDatacenter: { datacenter1: 3 } },
      { keyspace: 'analytics', strategy: 'NetworkTopologyStrategy', perDatacenter: { dc1: 3, dc2: 2 } },
    ]);
  });

  it('refuses output without a table', () => {
    expect(() => parseKeyspaceReplication('Connection error: (\'Unable to connect to any servers\', {...})')).toThrow(/no table header/);
  });

  it('reads CQL map literals, escaped quotes included', () => {
    expect(parseCqlMap("{'class': 'SimpleStrategy', 'replication_factor': '2'}")).toEqual({ class: 'SimpleStrategy', replication_factor: '2' });
    expect(parseCqlMap("{'it''s': 'a | b'}")).toEqual({ "it's": 'a | b' });
  });
});

describe('helpers', () => {
  it.each([
    ['512 bytes', 512],
    ['1.5 KiB', 1536],
    ['2 GiB', 2 * 1024 ** 3],
    ['1.2MB', Math.round(1.2 * 1024 ** 2)],
    ['?', undefined],
  ])('parseSize(%s)', (s, n) => expect(parseSize(s)).toBe(n));

  it.each([
    ['/10.0.0.1:7000', { address: '10.0.0.1', port: 7000 }],
    ['10.0.0.1', { address: '10.0.0.1' }],
    ['cassandra-1.cassandra/10.0.0.1', { address: '10.0.0.1' }],
    ['[::1]:7000', { address: '::1', port: 7000 }],
  ])('splitAddress(%s)', (s, r) => expect(splitAddress(s)).toEqual(r));
});
