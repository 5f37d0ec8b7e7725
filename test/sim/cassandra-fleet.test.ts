// The seeded fleet's Cassandra ring through startSim: seed, sim.cassandra, control API routes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../testbeds/sim/index.js';
import { controlApi } from '../helpers/sim-control.js';
import { waitFor } from '../helpers/wait.js';

const until = <T>(what: string, fn: () => T | undefined | false) => waitFor(what, fn, 8000);

describe('startSim: the seeded Cassandra ring', () => {
  let home: string;
  let sim: SimHandle;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'itinerant-cassandra-'));
    sim = await startSim({ home, bootDelayMs: 50, nodeReadyDelayMs: 50, terminateDelayMs: 50, kubeFaults: { podStartDelayMs: 0 }, cassandraFaults: { decommissionStreamMs: 400 } });
  });

  afterAll(async () => {
    await sim?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('data/cassandra: 4 NORMAL members, claims, a PDB with maxUnavailable 1', async () => {
    const ring = await until('ring', () => {
      const r = sim.cassandra.ring('data', 'cassandra');
      return r && r.members.length === 4 && r.members.every((m) => m.mode === 'NORMAL' && m.state === 'Up') ? r : undefined;
    });
    expect(ring.keyspaces.filter((k) => ['system_auth', 'shop', 'analytics'].includes(k.name)).map((k) => [k.name, k.replication['dc1']])).toEqual([
      ['system_auth', '3'],
      ['shop', '3'],
      ['analytics', '2'],
    ]);
    expect(sim.kube.store.list('persistentvolumeclaims', 'data').map((c) => c.metadata.name)).toEqual(['data-cassandra-0', 'data-cassandra-1', 'data-cassandra-2', 'data-cassandra-3']);
    expect(sim.kube.store.get('poddisruptionbudgets', 'data', 'cassandra')?.spec).toMatchObject({ maxUnavailable: 1 });
  });

  it('control API: GET /sim/cassandra, PUT /sim/cassandra/faults (validated), counters', async () => {
    const control = controlApi(sim);
    const bad = await control('/sim/cassandra/faults', { method: 'PUT', body: { stallDecommission: 'yes' } });
    expect(bad.status).toBe(400);
    const put = await control('/sim/cassandra/faults', { method: 'PUT', body: { stallDecommission: true, decommissionStreamMs: 300 } });
    expect(await put.json()).toEqual({ decommissionStreamMs: 300, stallDecommission: true, joinMs: 3000, failNextDecommission: 0, decommissionFailAt: 0.5, garbledReadRate: 0 });
    const badFail = await control('/sim/cassandra/faults', { method: 'PUT', body: { failNextDecommission: -1 } });
    expect(badFail.status).toBe(400);
    const run = sim.cassandra.exec('data', 'cassandra-3', ['nodetool', 'decommission']);
    await until('LEAVING', () => sim.cassandra.member('data', 'cassandra-3')?.mode === 'LEAVING');
    await new Promise((r) => setTimeout(r, 300));
    const state = (await (await control('/sim/cassandra')).json()) as {
      rings: { members: { pod: string; mode: string; stream?: { sentBytes: number; totalBytes: number } }[] }[];
      faults: { stallDecommission: boolean };
      counters: { decommissionIssued: Record<string, number> };
    };
    const leaving = state.rings[0]!.members.find((m) => m.pod === 'cassandra-3')!;
    expect(leaving.mode).toBe('LEAVING');
    expect(leaving.stream).toMatchObject({ sentBytes: 0 });
    expect(state.counters.decommissionIssued['data/cassandra-3']).toBe(1);
    await control('/sim/cassandra/faults', { method: 'PUT', body: { stallDecommission: false } });
    expect((await run).exitCode).toBe(0);
    expect(sim.cassandra.member('data', 'cassandra-3')?.mode).toBe('DECOMMISSIONED');
    expect((await control('/sim/state')).status).toBe(200); // the other routes still answer
  });

  it('control API: the Cassandra routes need the token and a JSON content type, and a refused request changes nothing', async () => {
    const before = sim.cassandra.faults.joinMs;
    const url = `${sim.controlUrl}/sim/cassandra/faults`;
    const body = JSON.stringify({ joinMs: before + 1 });
    const noToken = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
    expect(noToken.status).toBe(401);
    expect((await fetch(`${sim.controlUrl}/sim/cassandra`)).status).toBe(401);
    const noType = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${sim.controlToken}` }, body: new Blob([body]) });
    expect(noType.status).toBe(415);
    expect(sim.cassandra.faults.joinMs).toBe(before);
  });
});
