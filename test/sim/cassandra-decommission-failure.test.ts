// A decommission whose streaming fails part-way (faults.failNextDecommission), as Cassandra 4.1 behaves:
// nodetool exits 2 with `error: Error while decommissioning node: ...` on stderr, the member stays LEAVING
// (4.1 has no DECOMMISSION_FAILED mode), a pod restart brings it back NORMAL (still a member), and running
// the decommission again while LEAVING resumes with what was not streamed yet.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CassandraSim } from '../../testbeds/sim/cassandra/index.js';
import type { KubeSim } from '../../testbeds/sim/kube/index.js';
import { rt } from '../../testbeds/sim/kube/resources.js';
import { execIn, NS, startCassandraRing, until } from '../helpers/cassandra-ring.js';

let kube: KubeSim;
let cass: CassandraSim;
let kc: k8s.KubeConfig;
let stopRing: (() => Promise<void>) | undefined;

const exec = (pod: string, argv: string[]) => execIn(kc, pod, argv);

const member = (pod: string) => cass.member(NS, pod)!;
const statusRow = async (pod: string) => {
  const st = await exec('cassandra-0', ['nodetool', 'status']);
  return st.stdout.split('\n').find((l) => l.includes(` ${member(pod).hostId} `));
};

beforeAll(async () => {
  ({ kube, kc, cass, stop: stopRing } = await startCassandraRing('cassandra-fail-test'));
});

afterAll(async () => {
  await stopRing?.();
});

describe('a decommission that fails part-way (Cassandra 4.1)', () => {
  it('nodetool exits 2 with the error on stderr; the member stays LEAVING (UL, no stream); a pod restart brings it back NORMAL; a new decommission then completes', async () => {
    expect(cass.faults).toMatchObject({ failNextDecommission: 0, decommissionFailAt: 0.5 });
    cass.faults.decommissionStreamMs = 800;
    cass.faults.failNextDecommission = 1;
    const before = member('cassandra-3');

    const failed = await exec('cassandra-3', ['nodetool', 'decommission']);
    expect(failed.exitCode).toBe(2);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(
      /^error: Error while decommissioning node: Stream failed\n-- StackTrace --\njava\.lang\.RuntimeException: Error while decommissioning node: Stream failed\n\tat org\.apache\.cassandra\.service\.StorageService\.decommission\(StorageService\.java:\d+\)\n/,
    );
    expect(cass.faults.failNextDecommission).toBe(0); // armed for one attempt

    const m = member('cassandra-3');
    expect(m.mode).toBe('LEAVING');
    expect(m.inRing).toBe(true);
    expect(m.stream).toBeUndefined();
    expect(m.lastStream?.error).toBe('Stream failed');
    expect(m.lastStream!.sentBytes).toBeGreaterThan(0);
    expect(m.lastStream!.sentBytes).toBeLessThan(m.lastStream!.totalBytes);
    expect(m.lastStream!.progress).toBeCloseTo(0.5, 5);
    expect(m.decommission).toMatchObject({ issued: 1, started: 1, refused: 0, failed: 1, error: 'Error while decommissioning node: Stream failed' });
    expect(cass.counters().decommissionFailed[`${NS}/cassandra-3`]).toBe(1);

    const net = await exec('cassandra-3', ['nodetool', 'netstats']);
    expect(net.stdout).toMatch(/^Mode: LEAVING\nNot sending any streams\.\n/);
    expect(await statusRow('cassandra-3')).toMatch(/^UL {2}/);
    // nothing resets the mode: it stays LEAVING
    await new Promise((r) => setTimeout(r, 300));
    expect(member('cassandra-3').mode).toBe('LEAVING');

    // restart: boots with its tokens and joins as NORMAL again, the same member (it never left)
    kube.api.delete(rt('pods'), NS, 'cassandra-3');
    await until('cassandra-3 restarted, NORMAL and Up', () => {
      const x = cass.member(NS, 'cassandra-3');
      return x && x.mode === 'NORMAL' && x.state === 'Up' && x.address !== '' && kube.store.get('pods', NS, 'cassandra-3')?.status?.phase === 'Running';
    });
    const back = member('cassandra-3');
    expect(back.hostId).toBe(before.hostId);
    expect(back.tokens).toEqual(before.tokens);
    expect(back.inRing).toBe(true);
    expect(await statusRow('cassandra-3')).toMatch(/^UN {2}/);
    expect((await exec('cassandra-3', ['nodetool', 'netstats'])).stdout).toMatch(/^Mode: NORMAL\n/);

    // issued again (the fault is spent): it leaves
    const again = await exec('cassandra-3', ['nodetool', 'decommission']);
    expect(again).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    expect(member('cassandra-3').mode).toBe('DECOMMISSIONED');
    expect(await statusRow('cassandra-3')).toBeUndefined();
    const c = cass.counters();
    expect([c.decommissionIssued[`${NS}/cassandra-3`], c.decommissionStarted[`${NS}/cassandra-3`], c.decommissionFailed[`${NS}/cassandra-3`]]).toEqual([2, 2, 1]);
  });

  it('run again while still LEAVING after the failure, the decommission resumes with what was not streamed (no RF check, as 4.1)', async () => {
    cass.faults.failNextDecommission = 1;
    cass.faults.decommissionFailAt = 0.25;
    // three members left and system_auth RF 3: only a forceful decommission may start
    const failed = await exec('cassandra-2', ['nodetool', 'decommission', '--force']);
    expect(failed.exitCode).toBe(2);
    expect(failed.stderr).toContain('error: Error while decommissioning node: Stream failed\n');
    const first = member('cassandra-2').lastStream!;
    expect(member('cassandra-2').mode).toBe('LEAVING');
    expect(first.progress).toBeCloseTo(0.25, 5);

    // resumed without --force: 4.1 skips the RF checks for a LEAVING node
    const resumed = exec('cassandra-2', ['nodetool', 'decommission']);
    const streaming = await until('resumed stream', () => member('cassandra-2').stream);
    expect(streaming.planId).not.toBe(first.planId);
    expect(streaming.totalBytes).toBe(first.totalBytes - first.sentBytes);
    expect((await resumed).exitCode).toBe(0);
    expect(member('cassandra-2').mode).toBe('DECOMMISSIONED');
    const c = cass.counters();
    expect([c.decommissionIssued[`${NS}/cassandra-2`], c.decommissionStarted[`${NS}/cassandra-2`], c.decommissionFailed[`${NS}/cassandra-2`]]).toEqual([2, 2, 1]);
  });
});
