// faults.garbledReadRate: nodetool status/netstats cut short or missing rows. What it garbles is never
// read as a different ring or mode by the parsers and ringReadProblem the decommission relies on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ringReadProblem } from '../../src/core/decommission.js';
import { parseNetstats, parseNodetoolStatus } from '../../src/services/cassandra/nodetool.js';
import { NS, startCassandraRing } from '../helpers/cassandra-ring.js';

let ring: Awaited<ReturnType<typeof startCassandraRing>>;
beforeAll(async () => {
  ring = await startCassandraRing('garble-1');
});
afterAll(async () => {
  await ring?.stop();
});

const readable = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};

describe('garbled nodetool reads', () => {
  it('status: every garbled read is unreadable, rejected by ringReadProblem, or the same ring', async () => {
    const truth = parseNodetoolStatus((await ring.cass.exec(NS, 'cassandra-0', ['nodetool', 'status'])).stdout).members.map((m) => m.hostId).sort();
    const observer = ring.cass.member(NS, 'cassandra-0')!.hostId;
    const before = ring.cass.counters().garbledReads;
    ring.cass.faults.garbledReadRate = 1;
    let rejected = 0;
    try {
      for (let i = 0; i < 40; i++) {
        const out = await ring.cass.exec(NS, 'cassandra-0', ['nodetool', 'status']);
        expect(out.exitCode).toBe(0);
        const parsed = readable(() => parseNodetoolStatus(out.stdout).members.map((m) => ({ id: m.hostId })));
        if (!parsed || ringReadProblem(parsed, observer, truth.length)) rejected++;
        else expect(parsed.map((m) => m.id).sort()).toEqual(truth);
      }
    } finally {
      ring.cass.faults.garbledReadRate = 0;
    }
    expect(ring.cass.counters().garbledReads - before).toBe(40);
    expect(rejected).toBeGreaterThan(20);
  });

  it('netstats: a garbled read is unreadable or reports the true mode', async () => {
    ring.cass.faults.garbledReadRate = 1;
    let unreadable = 0;
    try {
      // 100 reads: enough that "some are unreadable" cannot fail by chance (40 did, about once in 20 runs)
      for (let i = 0; i < 100; i++) {
        const out = await ring.cass.exec(NS, 'cassandra-1', ['nodetool', 'netstats']);
        const mode = readable(() => parseNetstats(out.stdout).mode);
        if (mode === undefined) unreadable++;
        else expect(mode).toBe('NORMAL');
      }
    } finally {
      ring.cass.faults.garbledReadRate = 0;
    }
    expect(unreadable).toBeGreaterThan(20);
    expect(parseNetstats((await ring.cass.exec(NS, 'cassandra-1', ['nodetool', 'netstats'])).stdout).mode).toBe('NORMAL');
  });
});
