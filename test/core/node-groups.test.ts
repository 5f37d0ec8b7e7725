import { describe, expect, it } from 'vitest';
import { targetSizeOf } from '../../src/core/node-groups.js';
import { nodeGroup } from '../helpers/node-group.js';

const group = nodeGroup;

describe('targetSizeOf: the size a node-group run brings the group to', () => {
  it.each<[string, Record<string, unknown>, 'create' | 'scale' | 'delete', number | undefined, number | RegExp]>([
    ['delete: always 0', {}, 'delete', undefined, 0],
    ['delete ignores a size', {}, 'delete', 7, 0],
    ['create: the configured size', {}, 'create', undefined, 4],
    ['scale up within the ceiling (2× size)', {}, 'scale', 8, 8],
    ['scale down to the minimum Ready count (size - maxUnavailable)', {}, 'scale', 3, 3],
    ['scale to 0 is refused: delete removes a group', {}, 'scale', 0, /^size: 0 is below node group general's minimum of 3 Ready nodes .*use action delete$/],
    ['scale below minReady', { minReady: 4, maxUnavailable: 0 }, 'scale', 3, /^size: 3 is below node group general's minimum of 4 Ready nodes/],
    ['scale above the default ceiling', {}, 'scale', 9, /^size: 9 is above node group general's ceiling of 8 nodes \(maxSize, else twice its size of 4\)$/],
    ['scale up to a configured maxSize', { maxSize: 20 }, 'scale', 20, 20],
    ['scale above a configured maxSize', { maxSize: 5 }, 'scale', 6, /ceiling of 5 nodes/],
    ['create with a size below the floor', {}, 'create', 1, /below node group general's minimum of 3/],
    ['a group of size 0 may be scaled to 1', { size: 0, maxUnavailable: 0 }, 'scale', 1, 1],
    ['size 1000 of a small group', {}, 'scale', 1000, /ceiling of 8 nodes/],
  ])('%s', (_name, over, action, size, want) => {
    const r = targetSizeOf(group(over), action, size);
    if (typeof want === 'number') expect(r).toEqual({ ok: true, value: want });
    else {
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toMatch(want);
    }
  });

  it('a maxSize below size is refused when the fleet file is loaded', () => {
    expect(() => group({ maxSize: 3 })).toThrow(/maxSize must not be below size/);
  });
});
