// The lane's per-node state keyed by machine (src/core/lane/machines.ts), as tables.
import { describe, expect, it } from 'vitest';
import {
  carriedBackoffs,
  forgetReplaced,
  machineOf,
  receiveReport,
  reconcileMachineState,
  recordFailure,
  type Backoff,
  type InFlightRepave,
  type ObservedNode,
  type UnhealthyReport,
} from '../../src/core/lane/index.js';

const M = 60_000;
const NOW = Date.parse('2025-03-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const I1 = 'ocid1.instance.oc1..one';
const I2 = 'ocid1.instance.oc1..two';

/** A node named like an IP, on instance `instanceId`, created `minutesAgo`. */
const node = (name: string, instanceId: string, minutesAgo: number): ObservedNode => ({
  name,
  instanceId,
  createdAt: iso(NOW - minutesAgo * M),
  ready: true,
  conditions: [],
  unschedulable: false,
});
const report = (nodeName: string, minutesAgo: number, machine?: string): UnhealthyReport => ({
  node: nodeName,
  reason: 'disk errors',
  at: iso(NOW - minutesAgo * M),
  ...(machine ? { machine } : {}),
});
const backoff = (nodeName: string, failedMinutesAgo: number, machine?: string): Backoff => ({
  node: nodeName,
  ...(machine ? { machine } : {}),
  count: 1,
  failedAt: NOW - failedMinutesAgo * M,
  notBefore: NOW + 60 * M,
});
const inFlight = (nodeName: string, machine?: string): InFlightRepave => ({
  node: nodeName,
  workflowId: `repave-node.sim-1.${nodeName}`,
  startedAt: iso(NOW),
  reason: 'test',
  ...(machine ? { machine } : {}),
});

describe('machineOf', () => {
  it.each([
    ['its instance', { name: 'n', instanceId: I1, uid: 'u' }, I1],
    ['its Node UID without an instance', { name: 'n', uid: 'u-1' }, 'node-uid:u-1'],
    ['its name, for an observation with neither', { name: 'n' }, 'node:n'],
  ])('%s', (_what, n, key) => expect(machineOf(n)).toBe(key));
});

describe('reconcileMachineState (by machine)', () => {
  it.each<[string, { reports?: UnhealthyReport[]; backoffs?: Backoff[]; nodes: ObservedNode[]; inFlight?: InFlightRepave[] }, { reports: (string | undefined)[]; backoffs: (string | undefined)[]; notBefore: string[]; dropped?: RegExp }]>([
    [
      'a report and a backoff by name bind to the machine that has the name',
      { reports: [report('10.0.0.2', 5)], backoffs: [backoff('10.0.0.2', 5)], nodes: [node('10.0.0.2', I1, 60)] },
      { reports: [I1], backoffs: [I1], notBefore: ['10.0.0.2'] },
    ],
    [
      'the backoff of a machine that is gone is dropped, even when its name is back on another machine',
      { backoffs: [backoff('10.0.0.2', 30, I1)], nodes: [node('10.0.0.2', I2, 10)] },
      { reports: [], backoffs: [], notBefore: [], dropped: /backoff on 10\.0\.0\.2: its machine .*one is gone/ },
    ],
    [
      'a report by name from before the machine now under that name was created is dropped (it was about the one before)',
      { reports: [report('10.0.0.2', 20)], nodes: [node('10.0.0.2', I2, 10)] },
      { reports: [], backoffs: [], notBefore: [], dropped: /came before its machine .*two was created/ },
    ],
    [
      'a backoff carried by name from before the machine now under that name was created is dropped',
      { backoffs: [backoff('10.0.0.2', 20)], nodes: [node('10.0.0.2', I2, 10)] },
      { reports: [], backoffs: [], notBefore: [], dropped: /backoff on 10\.0\.0\.2: came before/ },
    ],
    [
      'a report on a machine that is still there follows it under its name',
      { reports: [report('old-name', 5, I1)], nodes: [node('10.0.0.9', I1, 60)] },
      { reports: [I1], backoffs: [], notBefore: [] },
    ],
    [
      'a report on a machine whose repave is in flight stays when its node is gone',
      { reports: [report('10.0.0.2', 5, I1)], nodes: [], inFlight: [inFlight('10.0.0.2', I1)] },
      { reports: [I1], backoffs: [], notBefore: [] },
    ],
    [
      'two reports on one machine: the first stands',
      { reports: [report('10.0.0.2', 5, I1), report('10.0.0.2', 1)], nodes: [node('10.0.0.2', I1, 60)] },
      { reports: [I1], backoffs: [], notBefore: [] },
    ],
    [
      'a report by name on a node not in the group is dropped',
      { reports: [report('10.0.0.7', 1)], nodes: [node('10.0.0.2', I1, 60)] },
      { reports: [], backoffs: [], notBefore: [], dropped: /report on 10\.0\.0\.7: node gone/ },
    ],
  ])('%s', (_what, given, want) => {
    const r = reconcileMachineState({ reports: given.reports ?? [], backoffs: given.backoffs ?? [] }, given.nodes, given.inFlight ?? [], false);
    expect(r.reports.map((x) => x.machine)).toEqual(want.reports);
    expect(r.backoffs.map((x) => x.machine)).toEqual(want.backoffs);
    expect(Object.keys(r.notBefore)).toEqual(want.notBefore);
    for (const p of r.planReports) expect(given.nodes.some((n) => n.name === p.node) || given.inFlight?.some((f) => f.node === p.node)).toBe(true);
    if (want.dropped) expect(r.dropped.join('\n')).toMatch(want.dropped);
    else expect(r.dropped).toEqual([]);
  });

  it('a report by name that came in while the nodes were listed, on a node the list lacks, waits for the next sweep', () => {
    // The list was read before the node joined; the report names the new node.
    const listedSince = NOW - 2 * M;
    const r = reconcileMachineState({ reports: [report('10.0.0.7', 1)], backoffs: [] }, [node('10.0.0.2', I1, 60)], [], false, listedSince);
    expect(r.reports).toEqual([report('10.0.0.7', 1)]);
    expect(r.planReports).toEqual([]);
    expect(r.dropped).toEqual([]);
    // One from before the listing began is about a node gone, as before; and so is this one at the next sweep.
    expect(reconcileMachineState({ reports: [report('10.0.0.7', 3)], backoffs: [] }, [], [], false, listedSince).dropped).toEqual(['report on 10.0.0.7: node gone']);
    expect(reconcileMachineState({ reports: r.reports, backoffs: [] }, [], [], false, NOW).dropped).toEqual(['report on 10.0.0.7: node gone']);
    // A lane run keyed by name keeps it the same way.
    expect(reconcileMachineState({ reports: [report('10.0.0.7', 1)], backoffs: [] }, [], [], true, listedSince).reports).toHaveLength(1);
    // Once its node is listed, it binds to the node's machine.
    const bound = reconcileMachineState({ reports: r.reports, backoffs: [] }, [node('10.0.0.7', I2, 5)], [], false, NOW);
    expect(bound.planReports).toEqual([{ ...report('10.0.0.7', 1), machine: I2 }]);
  });

  it('plans under the names the machines have now', () => {
    const r = reconcileMachineState({ reports: [report('old-name', 5, I1)], backoffs: [backoff('old-name', 5, I1)] }, [node('10.0.0.9', I1, 60)], [], false);
    expect(r.planReports.map((p) => p.node)).toEqual(['10.0.0.9']);
    expect(r.notBefore).toEqual({ '10.0.0.9': NOW + 60 * M });
  });
});

describe('reconcileMachineState (by name: a lane run from before machines keeps its rules)', () => {
  it('keeps by name what a name still has, whatever machine it is on now; a report stays while its node is in flight', () => {
    const r = reconcileMachineState(
      { reports: [report('10.0.0.2', 20), report('10.0.0.5', 1)], backoffs: [backoff('10.0.0.2', 20), backoff('10.0.0.5', 1)] },
      [node('10.0.0.2', I2, 10)],
      [inFlight('10.0.0.5')],
      true,
    );
    expect(r.reports.map((x) => [x.node, x.machine])).toEqual([['10.0.0.2', undefined], ['10.0.0.5', undefined]]);
    expect(r.notBefore).toEqual({ '10.0.0.2': NOW + 60 * M });
    expect(r.dropped).toEqual(['backoff of 10.0.0.5: node gone']);
  });
});

describe('receiveReport', () => {
  const seen = new Map([['10.0.0.2', I1]]);
  it.each<[string, UnhealthyReport[], boolean, { added: boolean; wake: boolean }]>([
    ['a first report wakes the lane', [], false, { added: true, wake: true }],
    ['a second before the first is bound is a duplicate', [report('10.0.0.2', 1)], false, { added: false, wake: false }],
    ['one on the machine last seen under the name is kept for the next sweep, without a wake', [report('10.0.0.2', 9, I1)], false, { added: true, wake: false }],
    ['one on a name whose report is on another machine wakes the lane', [report('10.0.0.2', 9, I2)], false, { added: true, wake: true }],
    ['by name: any report on the name is a duplicate', [report('10.0.0.2', 9)], true, { added: false, wake: false }],
  ])('%s', (_what, reports, byName, want) => {
    const r = receiveReport(reports, { node: '10.0.0.2', reason: 'again' }, iso(NOW), seen, byName);
    expect({ added: r.added, wake: r.wake }).toEqual(want);
    expect(r.reports).toHaveLength(reports.length + (want.added ? 1 : 0));
  });
});

describe('failures and replacements', () => {
  const backoffMs = (count: number) => count * 10 * M;
  it('a failure grows the backoff of its machine only', () => {
    let b = recordFailure([], { node: '10.0.0.2', machine: I1 }, NOW, backoffMs);
    b = recordFailure(b, { node: '10.0.0.2', machine: I1 }, NOW + M, backoffMs);
    b = recordFailure(b, { node: '10.0.0.2', machine: I2 }, NOW + 2 * M, backoffMs);
    expect(b.map((x) => [x.machine, x.count, x.notBefore])).toEqual([
      [I1, 2, NOW + M + 20 * M],
      [I2, 1, NOW + 2 * M + 10 * M],
    ]);
  });

  it('a replacement forgets its machine and what came in by its name meanwhile, nothing of other machines', () => {
    const s = forgetReplaced(
      { reports: [report('10.0.0.2', 9, I1), report('10.0.0.2', 1), report('10.0.0.3', 1, I2)], backoffs: [backoff('10.0.0.2', 9, I1), backoff('10.0.0.3', 1, I2)] },
      { node: '10.0.0.2', machine: I1 },
    );
    expect(s.reports.map((r) => r.machine)).toEqual([I2]);
    expect(s.backoffs.map((r) => r.machine)).toEqual([I2]);
  });

  it.each([
    ['backoffs carried by machine are taken as they are', { backoffs: [backoff('n', 1, I1)] }, [{ node: 'n', machine: I1 }]],
    ['failures carried by name (before machines) become backoffs by name, failed when their backoff began', { failures: { n: { count: 2, notBefore: NOW } } }, [{ node: 'n', count: 2, notBefore: NOW, failedAt: NOW - 20 * M }]],
    ['nothing carried', undefined, []],
  ])('%s', (_what, carry, want) => {
    const b = carriedBackoffs(carry, backoffMs);
    expect(b).toEqual(want.map((w) => expect.objectContaining(w)));
    if (carry && 'failures' in carry) expect(b[0]).not.toHaveProperty('machine');
  });
});
