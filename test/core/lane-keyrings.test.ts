import { describe, expect, it } from 'vitest';
import {
  applyKeyringRequest,
  defaultPace,
  keyringsBehind,
  parseKeyringRequest,
  planRepaves,
  type DesiredImage,
  type InFlightRepave,
  type KeyringRequirements,
  type ObservedNode,
} from '../../src/core/lane/index.js';
import { group as laneGroup, iso, node, NOW } from './lane-fixtures.js';

const AT = iso(NOW);
const req = (version: number, by = 'rotate-keys.c1.client-ca') => ({ version, by, at: AT });

describe('keyring requirements: what a rotation asks of a lane', () => {
  it.each<[string, KeyringRequirements, Parameters<typeof applyKeyringRequest>[1], KeyringRequirements, string | undefined]>([
    ['a first requirement', {}, { by: 'r1', purpose: 'client-ca', version: 4 }, { 'client-ca': req(4, 'r1') }, 'r1 requires every node to hold client-ca keyring v4 or later'],
    ['the same again changes nothing (idempotent)', { 'client-ca': req(4, 'r1') }, { by: 'r1', purpose: 'client-ca', version: 4 }, { 'client-ca': req(4, 'r1') }, undefined],
    ['an older one changes nothing', { 'client-ca': req(6, 'r2') }, { by: 'r1', purpose: 'client-ca', version: 4 }, { 'client-ca': req(6, 'r2') }, undefined],
    ['a later rotation advances it', { 'client-ca': req(4, 'r1') }, { by: 'r2', purpose: 'client-ca', version: 7 }, { 'client-ca': req(7, 'r2') }, 'r2 requires every node to hold client-ca keyring v7 or later'],
    ['purposes are apart', { 'client-ca': req(4) }, { by: 'r3', purpose: 'service-account', version: 2 }, { 'client-ca': req(4), 'service-account': req(2, 'r3') }, 'r3 requires every node to hold service-account keyring v2 or later'],
    ['a release drops it', { 'client-ca': req(4, 'r1') }, { by: 'r1', purpose: 'client-ca', version: 4, release: true }, {}, 'r1 released the client-ca keyring v4 requirement'],
    ['a release of an older version keeps a later requirement', { 'client-ca': req(7, 'r2') }, { by: 'r1', purpose: 'client-ca', version: 4, release: true }, { 'client-ca': req(7, 'r2') }, undefined],
    ['a release of nothing changes nothing', {}, { by: 'r1', purpose: 'client-ca', version: 4, release: true }, {}, undefined],
  ])('%s', (_name, current, request, requirements, change) => {
    const r = applyKeyringRequest(current, request, AT);
    expect(r.requirements).toEqual(requirements);
    expect(r.change).toBe(change);
  });

  it.each([
    [{ by: 'r1', purpose: 'client-ca', version: 3 }, true],
    [{ by: 'r1', purpose: 'client-ca', version: 3, release: true }, true],
    [{ by: '', purpose: 'client-ca', version: 3 }, false],
    [{ by: 'r1', purpose: 'etcd-peer', version: 3 }, false],
    [{ by: 'r1', purpose: 'client-ca', version: 0 }, false],
    [{ by: 'r1', purpose: 'client-ca', version: 2.5 }, false],
    [{ by: 'r1', purpose: 'client-ca', version: 3, release: 'yes' }, false],
    [undefined, false],
  ])('parses %j: %s', (request, ok) => {
    expect(parseKeyringRequest(request) !== undefined).toBe(ok);
  });

  it.each<[string, ObservedNode['keyrings'], KeyringRequirements, string[] | undefined]>([
    ['no requirement: never behind', { 'client-ca': 1 }, {}, undefined],
    ['holds the version required', { 'client-ca': 4 }, { 'client-ca': req(4) }, undefined],
    ['holds a later one', { 'client-ca': 5 }, { 'client-ca': req(4) }, undefined],
    ['holds an older one', { 'client-ca': 3 }, { 'client-ca': req(4) }, ['keyring: holds client-ca v3, rotate-keys.c1.client-ca requires v4']],
    ['reports none', undefined, { 'client-ca': req(4) }, ['keyring: holds client-ca v(none reported), rotate-keys.c1.client-ca requires v4']],
    ['behind on one purpose of two', { 'client-ca': 4, 'service-account': 1 }, { 'client-ca': req(4), 'service-account': req(2, 'r-sa') }, ['keyring: holds service-account v1, r-sa requires v2']],
  ])('%s', (_name, held, required, why) => {
    expect(keyringsBehind(held, required)).toEqual(why);
  });
});

describe('planRepaves: the keyring reason', () => {
  // four nodes of a group of four; the group's maxUnhealthy at its default
  const group = (over: Record<string, unknown> = {}) => laneGroup({ size: 4, maxUnhealthy: '25%', ...over });
  const keyrings: KeyringRequirements = { 'client-ca': req(4) };
  const nodes = [node('v3-old', 10, 1, { keyrings: { 'client-ca': 3 } }), node('v3-young', 2, 2, { keyrings: { 'client-ca': 3 } }), node('v4', 20, 3, { keyrings: { 'client-ca': 4 } }), node('aged', 40, 1, { keyrings: { 'client-ca': 4 } })];
  const plan = (over: Partial<Parameters<typeof planRepaves>[0]> = {}) => planRepaves({ group: group(), nodes, reports: [], inFlight: [], pace: { ...defaultPace(), concurrency: 2 }, now: NOW, ...over });

  it('without a requirement no node is behind', () => {
    expect(plan().keyring).toEqual([]);
    expect(plan().queue.map((c) => c.node)).toEqual(['aged']);
  });

  it('nodes behind come after the drifted and before the aged, oldest first, within the group budget', () => {
    const OLD = 'ocid1.image.oc1..old';
    const desiredImage: DesiredImage = { imageId: 'ocid1.image.oc1..new', source: 'pinned', at: AT };
    const p = plan({ keyrings, desiredImage, nodes: [...nodes, node('drifted', 5, 3, { imageId: OLD, keyrings: { 'client-ca': 4 } })] });
    expect(p.keyring).toEqual(['v3-old', 'v3-young']);
    expect(p.queue.map((c) => [c.node, c.kind])).toEqual([['drifted', 'drifted'], ['v3-old', 'keyring'], ['v3-young', 'keyring'], ['aged', 'aged']]);
    expect(p.queue[1]!.reasons).toEqual(['keyring: holds client-ca v3, rotate-keys.c1.client-ca requires v4']);
    expect(p.start.map((c) => c.node)).toEqual(['drifted', 'v3-old']);
  });

  it('keeps to its own budget (reasonBudgets.keyring) and to the budget left by repaves in flight', () => {
    const g = group({ maxSurge: 3, maxUnavailable: 3, reasonBudgets: { keyring: 1 } });
    expect(plan({ keyrings, group: g, pace: { concurrency: 3, pauseBetweenNodes: 0 } }).start.map((c) => c.node)).toEqual(['v3-old', 'aged']);
    const busy: InFlightRepave[] = [{ node: 'x', workflowId: 'w', startedAt: AT, reason: 'keyring', kind: 'keyring' }];
    expect(plan({ keyrings, group: g, inFlight: busy, pace: { concurrency: 3, pauseBetweenNodes: 0 } }).start.map((c) => c.node)).toEqual(['aged']);
    expect(plan({ keyrings, inFlight: busy }).start.map((c) => c.node)).toEqual(['v3-old']); // maxSurge 2, one in flight
  });

  it('outside a maintenance window it waits, as drifted and aged do', () => {
    const p = plan({ keyrings, notNow: { keyring: 'outside window', aged: 'outside window' } });
    expect(p.start).toEqual([]);
    expect(p.skipped.map((s) => s.node)).toEqual(['v3-old', 'v3-young', 'aged']);
  });
});
