import { describe, expect, it } from 'vitest';
import { nodeGroupSchema, type NodeGroupConfig } from '../../src/core/config.js';
import { nodesToRemove, placementsForNewNodes } from '../../src/core/node-groups.js';
import {
  lanePhase,
  addReport,
  applyPacePatch,
  assessHealth,
  closedBreaker,
  observedConditionMatters,
  defaultPace,
  evaluateBreaker,
  planRepaves,
  resetBreaker,
  unhealthyThreshold,
  reasonBudgetOf,
  waitingForWindow,
  type DesiredImage,
  type InFlightRepave,
  type ObservedNode,
  type PlanInput,
} from '../../src/core/lane/index.js';
import { D, group, H, iso, node, NOW } from './lane-fixtures.js';

const notReady = (n: ObservedNode, forMs: number): ObservedNode => ({
  ...n,
  ready: false,
  conditions: [{ type: 'Ready', status: 'False', since: iso(NOW - forMs), reason: 'KubeletStopped' }],
});

const plan = (over: Partial<PlanInput> & { nodes: ObservedNode[] }) =>
  planRepaves({ group: group(), reports: [], inFlight: [], pace: { ...defaultPace(), concurrency: 2 }, now: NOW, ...over });

describe('health', () => {
  it('NotReady or a problem condition counts only after the threshold; a report counts at once', () => {
    const n = node('a', 40, 1);
    expect(assessHealth(notReady(n, 4 * 60_000), undefined, NOW, 5 * 60_000).unhealthy).toBe(false);
    expect(assessHealth(notReady(n, 6 * 60_000), undefined, NOW, 5 * 60_000)).toMatchObject({ unhealthy: true, severity: 3 });
    const disk = { ...n, conditions: [...n.conditions, { type: 'DiskPressure', status: 'True', since: iso(NOW - 10 * 60_000) }] };
    expect(assessHealth(disk, undefined, NOW, 5 * 60_000)).toMatchObject({ unhealthy: true, severity: 1 });
    expect(assessHealth(disk, undefined, NOW, 15 * 60_000).unhealthy).toBe(false);
    const reported = assessHealth(n, { node: 'a', reason: 'NPD: kernel deadlock', at: iso(NOW) }, NOW, 5 * 60_000);
    expect(reported).toMatchObject({ unhealthy: true, severity: 2 });
    expect(reported.reasons.join()).toMatch(/kernel deadlock/);
  });

  it('judges a node the same from the conditions a sweep keeps as from all of them', () => {
    const kubelet = (ready: string, pressure: string) => [
      { type: 'MemoryPressure', status: pressure, since: iso(NOW - 20 * 60_000), reason: 'KubeletHasMemoryPressure' },
      { type: 'DiskPressure', status: 'False', since: iso(NOW - 40 * D) },
      { type: 'PIDPressure', status: 'Unknown', since: iso(NOW - 40 * D), reason: 'NodeStatusUnknown' },
      { type: 'Ready', status: ready, since: iso(NOW - 10 * 60_000), reason: 'KubeletReady' },
    ];
    const cases: [ready: string, pressure: string, kept: string[]][] = [
      ['True', 'False', []],
      ['True', 'True', ['MemoryPressure']],
      ['False', 'False', ['Ready']],
      ['Unknown', 'True', ['MemoryPressure', 'Ready']],
    ];
    for (const [ready, pressure, kept] of cases) {
      const all = { ...node('a', 40, 1), ready: ready === 'True', conditions: kubelet(ready, pressure) };
      const trimmed = { ...all, conditions: all.conditions.filter(observedConditionMatters) };
      expect(trimmed.conditions.map((c) => c.type)).toEqual(kept);
      for (const after of [5 * 60_000, 15 * 60_000, 30 * 60_000]) expect(assessHealth(trimmed, undefined, NOW, after)).toEqual(assessHealth(all, undefined, NOW, after));
    }
  });

  it('a booting node (never Ready yet) is neither unhealthy nor unavailable within the grace', () => {
    const booting = notReady(node('new', 0, 1), 60_000);
    const h = assessHealth({ ...booting, createdAt: iso(NOW - 60_000) }, undefined, NOW, 5 * 60_000);
    expect(h).toMatchObject({ unhealthy: false, unavailable: false });
  });
});

describe('planRepaves: selection and order', () => {
  it('selects aged and unhealthy nodes; unhealthiest first, then oldest', () => {
    const p = plan({
      nodes: [
        node('young', 5, 1),
        node('old-40', 40, 1),
        node('old-35', 35, 2),
        notReady(node('sick', 3, 3), 20 * 60_000),
        { ...node('pressured', 10, 2), conditions: [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'True', since: iso(NOW - H) }] },
        node('reported', 2, 3),
      ],
      reports: [{ node: 'reported', reason: 'npd', at: iso(NOW - 60_000) }, { node: 'gone', reason: 'x', at: iso(NOW) }],
    });
    expect(p.unhealthy.sort()).toEqual(['pressured', 'reported', 'sick']);
    expect(p.aged.sort()).toEqual(['old-35', 'old-40']);
    // Unhealthy tier: NotReady (FD3), then MemoryPressure (FD2) before the report (FD3) — spread beats severity within the tier.
    expect(p.queue.map((c) => c.node)).toEqual(['sick', 'pressured', 'reported', 'old-40', 'old-35']);
    expect(p.queue.find((c) => c.node === 'old-40')?.kind).toBe('aged');
    expect(p.staleReports).toEqual(['gone']);
  });

  it('keeps the spread over fault domains: never two from one FD while another FD has candidates', () => {
    const p = plan({
      nodes: [node('fd1-a', 50, 1), node('fd1-b', 49, 1), node('fd1-c', 48, 1), node('fd2-a', 40, 2), node('fd3-a', 31, 3)],
    });
    expect(p.queue.map((c) => c.node)).toEqual(['fd1-a', 'fd2-a', 'fd3-a', 'fd1-b', 'fd1-c']);
  });

  it('prefers fault domains without a repave in flight', () => {
    const inFlight: InFlightRepave[] = [{ node: 'fd1-x', workflowId: 'w', startedAt: iso(NOW), reason: 'aged', faultDomain: 'FAULT-DOMAIN-1' }];
    const p = plan({ nodes: [node('fd1-x', 60, 1), node('fd1-a', 50, 1), node('fd2-a', 40, 2)], inFlight });
    expect(p.queue.map((c) => c.node)).toEqual(['fd2-a', 'fd1-a']);
    expect(p.start.map((c) => c.node)).toEqual(['fd2-a']);
  });

  it('uses the pace maxAge over the group maxAge', () => {
    const p = plan({ nodes: [node('a', 3, 1), node('b', 1, 2)], pace: { concurrency: 1, pauseBetweenNodes: 0, maxAge: 2 * D } });
    expect(p.aged).toEqual(['a']);
  });

  it('skips nodes held by another live workflow and nodes backing off after a failure', () => {
    const p = plan({
      nodes: [node('held', 50, 1, { owner: 'repave-node.sim-1.held' }), node('failed', 45, 2), node('ok', 40, 3)],
      notBefore: { failed: NOW + 60_000 },
    });
    expect(p.queue.map((c) => c.node)).toEqual(['ok']);
    expect(p.skipped.map((s) => s.node).sort()).toEqual(['failed', 'held']);
    expect(p.budget.inFlight).toBe(1); // the held node counts against the budget
  });

  it('does not plan a node whose repave ended while the group was listed: the list is from before its end', () => {
    // The old node is listed after its repave deleted it, and no longer held (its owner ended): no second repave.
    const p = plan({ nodes: [node('replaced', 50, 1), node('ok', 40, 2)], endedWhileListing: ['replaced'] });
    expect(p.queue.map((c) => c.node)).toEqual(['ok']);
    expect(p.skipped).toEqual([{ node: 'replaced', why: expect.stringMatching(/ended while the group was listed/) }]);
    expect(p.budget.inFlight).toBe(0);
    expect(plan({ nodes: [node('replaced', 50, 1), node('ok', 40, 2)] }).queue.map((c) => c.node)).toEqual(['replaced', 'ok']);
  });
});

describe('planRepaves: budget', () => {
  const aged = [node('a', 50, 1), node('b', 49, 2), node('c', 48, 3), node('d', 47, 1)];

  it('starts at most min(concurrency, maxUnavailable, maxSurge) minus what is in flight', () => {
    expect(plan({ nodes: aged, pace: { concurrency: 1, pauseBetweenNodes: 0 } }).start).toHaveLength(1);
    expect(plan({ nodes: aged, pace: { concurrency: 2, pauseBetweenNodes: 0 } }).start).toHaveLength(2);
    expect(plan({ nodes: aged, group: group({ maxSurge: 1 }) }).start).toHaveLength(1);
    const inFlight: InFlightRepave[] = [{ node: 'a', workflowId: 'w', startedAt: iso(NOW), reason: 'aged' }];
    const p = plan({ nodes: aged, inFlight });
    expect(p.start.map((c) => c.node)).toEqual(['b']);
    expect(p.budget).toMatchObject({ cap: 2, inFlight: 1, slots: 1 });
    const full = plan({ nodes: aged, inFlight: [...inFlight, { node: 'b', workflowId: 'w2', startedAt: iso(NOW), reason: 'aged' }] });
    expect(full.start).toEqual([]);
    expect(full.budget.blockedBy).toMatch(/2 repave\(s\) in flight/);
  });

  it('counts nodes already out of service against maxUnavailable for healthy repaves, not for repaving them', () => {
    // c is NotReady for an hour: unavailable. maxUnavailable 2 leaves room for one healthy repave beside it.
    const nodes = [node('a', 50, 1), node('b', 49, 2), notReady(node('c', 10, 3), H), node('d', 47, 1, { unschedulable: true })];
    const p = plan({ nodes });
    // c (unhealthy) costs nothing more; d is cordoned (unavailable) and aged: costs nothing more; a would be a 3rd disruption.
    expect(p.start.map((c) => c.node)).toEqual(['c', 'd']);
    const one = plan({ nodes: [node('a', 50, 1), notReady(node('c', 10, 3), H), node('x', 1, 2, { unschedulable: true })] });
    expect(one.start.map((c) => c.node)).toEqual(['c']); // a would make 3 disrupted (c, x, a) > 2
  });

  it('refuses to plan anything for groups that cannot be repaved', () => {
    expect(plan({ nodes: aged, group: group({ maxUnavailable: 0 }) }).budget.blockedBy).toMatch(/maxUnavailable is 0/);
    expect(plan({ nodes: aged, group: group({ maxSurge: 0 }) }).budget.blockedBy).toMatch(/maxSurge is 0/);
    const inPlace = plan({ nodes: aged, group: group({ maxSurge: 0, allowInPlace: true }) });
    expect(inPlace.start).toHaveLength(2);
  });
});

describe('planRepaves: reasons as data (unhealthy, drifted, keyring, aged)', () => {
  const OLD = 'ocid1.image.oc1..old';
  const NEW = 'ocid1.image.oc1..new';
  const desired = (over: Partial<DesiredImage> = {}): DesiredImage => ({ imageId: NEW, source: 'pinned', at: iso(NOW), ...over });
  const on = (image: string) => ({ imageId: image });

  it.each([
    { name: 'no desired image: nothing drifts', desiredImage: undefined, drifted: [] },
    { name: 'nodes on another image drift; an unknown image does not', desiredImage: desired(), drifted: ['a', 'b'] },
    { name: 'nodes on the desired image do not drift', desiredImage: desired({ imageId: OLD }), drifted: ['c'] },
    { name: 'a held image (a channel, a rollout not yet at the group) moves no node', desiredImage: desired({ drift: 'none' }), drifted: [] },
    { name: 'a rollback moves only the nodes on the image it takes back', desiredImage: desired({ imageId: OLD, drift: { from: NEW } }), drifted: ['c'] },
    { name: 'only the nodes on the image it names', desiredImage: desired({ imageId: 'ocid1.image.oc1..other', drift: { from: NEW } }), drifted: ['c'] },
  ])('$name', ({ desiredImage, drifted }) => {
    const p = plan({ nodes: [node('a', 5, 1, on(OLD)), node('b', 4, 2, on(OLD)), node('c', 3, 3, on(NEW)), node('d', 2, 1)], ...(desiredImage ? { desiredImage } : {}) });
    expect(p.drifted).toEqual(drifted);
    expect(p.queue.map((c) => c.node)).toEqual(drifted);
    expect(p.queue.every((c) => c.kind === 'drifted')).toBe(true);
  });

  it('orders by reason: unhealthy, then drifted, then aged; a node due for several reasons takes the first and shows all', () => {
    const p = plan({
      nodes: [node('aged', 50, 1, on(NEW)), node('drifted', 5, 2, on(OLD)), notReady(node('sick', 3, 3, on(OLD)), 20 * 60_000), node('both', 40, 1, on(OLD))],
      desiredImage: desired(),
    });
    expect(p.queue.map((c) => [c.node, c.kind])).toEqual([['sick', 'unhealthy'], ['both', 'drifted'], ['drifted', 'drifted'], ['aged', 'aged']]);
    expect(p.queue[1]!.reasons.join('; ')).toMatch(/drifted: runs image .*old.*; aged 40d/);
  });

  it('a partial wave moves only the nodes it asks for, oldest first; the others fall back to their next reason', () => {
    const nodes = [node('n1', 40, 1, on(OLD)), node('n2', 5, 2, on(OLD)), node('n3', 4, 3, on(OLD)), node('n4', 3, 1, on(NEW))];
    const p = plan({ nodes, desiredImage: desired({ nodes: 2 }) });
    expect(p.queue.map((c) => [c.node, c.kind])).toEqual([['n1', 'drifted']]);
    const inFlight: InFlightRepave[] = [{ node: 'n1', workflowId: 'w', startedAt: iso(NOW), reason: 'drifted', kind: 'drifted' }];
    expect(plan({ nodes, desiredImage: desired({ nodes: 2 }), inFlight }).queue).toEqual([]);
    expect(plan({ nodes, desiredImage: desired({ nodes: 1 }) }).queue.map((c) => [c.node, c.kind])).toEqual([['n1', 'aged']]);
  });

  it('each reason keeps to its own budget within the group-wide one', () => {
    const nodes = [node('d1', 5, 1, on(OLD)), node('d2', 4, 2, on(OLD)), node('a1', 50, 3, on(NEW))];
    const g = group({ maxUnavailable: 3, maxSurge: 3, reasonBudgets: { drifted: 1 } });
    const p = plan({ nodes, group: g, desiredImage: desired(), pace: { concurrency: 3, pauseBetweenNodes: 0 } });
    expect(p.start.map((c) => c.node)).toEqual(['d1', 'a1']);
    const busy: InFlightRepave[] = [{ node: 'x', workflowId: 'w', startedAt: iso(NOW), reason: 'drifted', kind: 'drifted' }];
    const q = plan({ nodes, group: g, desiredImage: desired(), pace: { concurrency: 3, pauseBetweenNodes: 0 }, inFlight: busy });
    expect(q.start.map((c) => c.node)).toEqual(['a1']);
    expect(reasonBudgetOf(group({ size: 10, reasonBudgets: { aged: '25%', drifted: '1%', unhealthy: '0%' } }), 'aged')).toBe(2);
    expect(reasonBudgetOf(group({ size: 10, reasonBudgets: { drifted: '1%' } }), 'drifted')).toBe(1);
    expect(reasonBudgetOf(group({ size: 10, reasonBudgets: { unhealthy: '0%' } }), 'unhealthy')).toBe(0);
    expect(reasonBudgetOf(group(), 'aged')).toBeUndefined();
  });

  it.each([
    { unhealthyOutsideWindows: undefined, waiting: ['aged', 'drifted', 'keyring'] },
    { unhealthyOutsideWindows: 'replace', waiting: ['aged', 'drifted', 'keyring'] },
    { unhealthyOutsideWindows: 'wait', waiting: ['aged', 'drifted', 'keyring', 'unhealthy'] },
  ] as const)('outside its windows, unhealthyOutsideWindows $unhealthyOutsideWindows: $waiting wait', ({ unhealthyOutsideWindows, waiting }) => {
    const w = waitingForWindow({ name: 'general', ...(unhealthyOutsideWindows ? { unhealthyOutsideWindows } : {}) }, { opensAt: NOW + H });
    expect(Object.keys(w).sort()).toEqual(waiting);
    expect(w.aged).toBe('outside the maintenance windows of general; the next opens at 2025-03-01T13:00:00.000Z');
  });

  it('a reason that may not start now is queued and skipped with its why; the others start', () => {
    const nodes = [node('d1', 5, 1, on(OLD)), node('a1', 50, 2, on(NEW)), notReady(node('sick', 3, 3, on(NEW)), 20 * 60_000)];
    const p = plan({ nodes, desiredImage: desired(), notNow: { drifted: 'outside window', aged: 'outside window' } });
    expect(p.queue.map((c) => c.node)).toEqual(['sick', 'd1', 'a1']);
    expect(p.start.map((c) => c.node)).toEqual(['sick']);
    expect(p.skipped).toEqual([{ node: 'd1', why: 'outside window' }, { node: 'a1', why: 'outside window' }]);
  });
});

describe('planRepaves: a group above its size', () => {
  // size 4: two failed drains left two replacements serving beside the two old (aged) nodes.
  const six = [node('old-1', 50, 1), node('old-2', 49, 2), node('new-1', 0.1, 1), node('new-2', 0.1, 2), node('c', 10, 3), node('d', 5, 3)];
  const four = group({ size: 4 });

  it.each([
    { name: 'both surplus nodes due: both retired, not repaved', notBefore: {}, retiring: ['old-1', 'old-2'], note: /has 6 Ready nodes for a size of 4: retiring old-1, old-2 without a replacement/ },
    { name: 'one backing off after its failed drain: the other retired now, it later', notBefore: { 'old-1': NOW + H }, retiring: ['old-2'], note: /retiring old-2 without a replacement; retrying old-1 \(last repave failed; retried after .*\) as a retirement/ },
    { name: 'both backing off: nothing now, both said', notBefore: { 'old-1': NOW + H, 'old-2': NOW + H }, retiring: [], note: /retrying old-1 .*, old-2 .* as a retirement/ },
  ] as { name: string; notBefore: Record<string, number>; retiring: string[]; note: RegExp }[])('$name', ({ notBefore, retiring, note }) => {
    const p = plan({ nodes: six, group: four, notBefore });
    expect(p.aboveSize).toMatchObject({ nodes: 6, size: 4, surplus: 2, retiring });
    expect(p.aboveSize!.note).toMatch(note);
    expect(p.start.filter((c) => c.retire).map((c) => c.node)).toEqual(retiring);
  });

  it('never removes nodes that are not due; repaves in flight count as the surplus they make', () => {
    const fresh = plan({ nodes: six.filter((n) => !n.name.startsWith('old')).concat(node('e', 1, 1), node('f', 1, 2)), group: four });
    expect(fresh.aboveSize?.retiring).toEqual([]);
    expect(fresh.aboveSize?.note).toMatch(/no node is due/);
    expect(fresh.start).toEqual([]);
    const inFlight: InFlightRepave[] = [1, 2].map((i) => ({ node: `old-${i}`, workflowId: `w${i}`, startedAt: iso(NOW), reason: 'aged' }));
    expect(plan({ nodes: six, group: four, inFlight }).aboveSize).toBeUndefined();
    // Two repaves ended while the nodes were listed: their old nodes are still in the list, and no surplus.
    expect(plan({ nodes: six, group: four, inFlightWhileListing: 2 }).aboveSize).toBeUndefined();
    expect(plan({ nodes: six.slice(0, 4), group: four }).aboveSize).toBeUndefined();
    // A replacement that never got Ready lingers NotReady after its repave failed: not a surplus.
    const lingering = [...six.slice(0, 4), notReady(node('never-ready', 0.01, 3), 5 * 60_000)];
    expect(plan({ nodes: lingering, group: four }).aboveSize).toBeUndefined();
  });
});

describe('circuit breaker', () => {
  it('threshold from a count or a percentage of the size (rounded down, at least 1 above 0%)', () => {
    expect(unhealthyThreshold({ size: 10, maxUnhealthy: 3 })).toBe(3);
    expect(unhealthyThreshold({ size: 10, maxUnhealthy: '25%' })).toBe(2);
    expect(unhealthyThreshold({ size: 4, maxUnhealthy: '25%' })).toBe(1);
    expect(unhealthyThreshold({ size: 3, maxUnhealthy: '25%' })).toBe(1);
    expect(unhealthyThreshold({ size: 8, maxUnhealthy: '0%' })).toBe(0);
    expect(unhealthyThreshold({ size: 8, maxUnhealthy: '100%' })).toBe(8);
  });

  it('trips when more than maxUnhealthy are unhealthy (count), with a reason, and recovers by itself', () => {
    const g = group({ size: 6, maxUnhealthy: 2 });
    expect(evaluateBreaker(closedBreaker(), ['a', 'b'], g, iso(NOW)).state.open).toBe(false);
    const tripped = evaluateBreaker(closedBreaker(), ['a', 'b', 'c'], g, iso(NOW));
    expect(tripped.event).toBe('tripped');
    expect(tripped.state).toMatchObject({ open: true, since: iso(NOW) });
    expect(tripped.state.reason).toMatch(/3 of 6 nodes of group general are unhealthy \(a, b, c\); maxUnhealthy is 2/);
    expect(evaluateBreaker(tripped.state, ['a', 'b', 'c', 'd'], g, iso(NOW + 1)).state).toMatchObject({ open: true, since: iso(NOW) });
    const recovered = evaluateBreaker(tripped.state, ['a'], g, iso(NOW + 2));
    expect(recovered).toEqual({ state: { open: false }, event: 'recovered' });
  });

  it('trips on a percentage', () => {
    const g = group({ size: 8, maxUnhealthy: '25%' }); // 2 nodes
    expect(evaluateBreaker(closedBreaker(), ['a', 'b'], g, iso(NOW)).state.open).toBe(false);
    expect(evaluateBreaker(closedBreaker(), ['a', 'b', 'c'], g, iso(NOW)).state.open).toBe(true);
  });

  it('an operator reset accepts the current count and re-trips only if it grows', () => {
    const g = group({ size: 6, maxUnhealthy: 1 });
    const reset = resetBreaker(3);
    expect(evaluateBreaker(reset, ['a', 'b', 'c'], g, iso(NOW)).state.open).toBe(false);
    expect(evaluateBreaker(reset, ['a', 'b', 'c', 'd'], g, iso(NOW)).event).toBe('tripped');
    // back under the threshold: the acknowledgement is forgotten
    expect(evaluateBreaker(reset, ['a'], g, iso(NOW)).state).toEqual({ open: false });
  });
});

describe('pace and reports', () => {
  const g = group({ maxUnavailable: 2 });
  it('accepts sensible changes', () => {
    expect(applyPacePatch(defaultPace(), { concurrency: 2, pauseBetweenNodes: '10m', maxAge: '7d' }, g)).toEqual({
      ok: true,
      value: { concurrency: 2, pauseBetweenNodes: 600_000, maxAge: 7 * D },
    });
  });
  it.each([
    [{ concurrency: 3 }, /concurrency: expected an integer from 1 to 2 \(node group general's maxUnavailable\), got 3/],
    [{ concurrency: 0 }, /concurrency: expected an integer from 1 to 2/],
    [{ concurrency: 1.5 }, /concurrency/],
    [{ pauseBetweenNodes: '25h' }, /pauseBetweenNodes: expected a duration from 0s to 24h/],
    [{ pauseBetweenNodes: 'soon' }, /pauseBetweenNodes/],
    [{ maxAge: '30m' }, /maxAge: expected a duration from 1h/],
    [{ speed: 'fast' }, /unknown field\(s\) speed/],
    [{}, /nothing to change/],
    ['fast', /expected an object/],
  ])('refuses %j', (patch, message) => {
    const r = applyPacePatch(defaultPace(), patch, g);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
  });

  it('ignores duplicate reports', () => {
    const a = addReport([], { node: 'n1', reason: 'first' }, iso(NOW));
    const b = addReport(a.reports, { node: 'n1', reason: 'second' }, iso(NOW + 1));
    expect(b.added).toBe(false);
    expect(b.reports).toEqual([{ node: 'n1', reason: 'first', at: iso(NOW) }]);
  });
});

describe('node group manager planning', () => {
  it('places new nodes where the group has the fewest', () => {
    const g = group();
    const zone = (i: number) => `AD-${i}`;
    const nodes = [
      { zone: zone(1), faultDomain: 'FAULT-DOMAIN-1' },
      { zone: zone(1), faultDomain: 'FAULT-DOMAIN-1' },
      { zone: zone(2), faultDomain: 'FAULT-DOMAIN-2' },
    ];
    expect(placementsForNewNodes(g, nodes, 3).map((p) => p.faultDomain)).toEqual(['FAULT-DOMAIN-3', 'FAULT-DOMAIN-2', 'FAULT-DOMAIN-3']);
  });

  it('removes chosen nodes first, then the youngest from the fullest fault domain', () => {
    const nodes = [node('a', 10, 1, { zone: 'AD-1' }), node('b', 2, 1, { zone: 'AD-1' }), node('c', 1, 2, { zone: 'AD-2' }), node('d', 5, 3, { zone: 'AD-3' })];
    const r = nodesToRemove(nodes, 2);
    expect(r.ok && r.value.map((n) => n.name)).toEqual(['b', 'c']);
    const chosen = nodesToRemove(nodes, 2, ['d']);
    expect(chosen.ok && chosen.value.map((n) => n.name)).toEqual(['d', 'b']);
    expect(nodesToRemove(nodes, 2, ['zz']).ok).toBe(false);
    const notShrinking = nodesToRemove(nodes, 4, ['d']);
    expect(notShrinking.ok).toBe(false);
    expect(!notShrinking.ok && notShrinking.message).toMatch(/^nodes: only a scale-down removes nodes/);
    expect(nodesToRemove(nodes, 5)).toEqual({ ok: true, value: [] });
  });
});

describe('lanePhase', () => {
  const quiet = { continuing: false, inFlight: 0, breakerOpen: false, paused: false, held: false, queued: 0, startable: 0 };
  it.each<[string, Partial<typeof quiet>, ReturnType<typeof lanePhase>]>([
    ['nothing to do', {}, 'idle'],
    ['repaves in flight', { inFlight: 2, queued: 3, startable: 0 }, 'repaving'],
    ['queued but nothing may start (budget, spread, backoff)', { queued: 2 }, 'blocked'],
    ['queued and startable (about to start)', { queued: 2, startable: 1 }, 'idle'],
    ['held by the node group manager', { held: true, inFlight: 1 }, 'held'],
    ['paused beats held', { paused: true, held: true }, 'paused'],
    ['an open breaker beats a pause', { breakerOpen: true, paused: true, inFlight: 1 }, 'circuit-open'],
    ['continue-as-new due, repaves still in flight', { continuing: true, inFlight: 1 }, 'repaving'],
    ['continue-as-new due and nothing in flight', { continuing: true, breakerOpen: true }, 'continuing'],
  ])('%s', (_name, s, phase) => {
    expect(lanePhase({ ...quiet, ...s })).toBe(phase);
  });
});
