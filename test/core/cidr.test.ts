import { describe, expect, it } from 'vitest';
import { allocateCidrs, contains, formatCidr, hostAddress, overlaps, parseCidr } from '../../src/core/cidr.js';

const c = (s: string) => {
  const r = parseCidr(s);
  if (!r) throw new Error(`bad test CIDR ${s}`);
  return r;
};

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/16', '10.0.0.0/16'],
    ['10.0.128.0/17', '10.0.128.0/17'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['192.168.1.7/32', '192.168.1.7/32'],
    ['255.255.255.0/24', '255.255.255.0/24'],
  ])('%s round-trips', (text, expected) => expect(formatCidr(c(text))).toBe(expected));

  it.each([['10.0.0.1/24'], ['10.0.0.0/33'], ['10.0.0.256/24'], ['10.0.0/24'], ['10.0.0.0'], ['fd00::/64'], [' 10.0.0.0/24'], ['10.0.0.0/-1']])(
    '%s is refused',
    (text) => expect(parseCidr(text)).toBeUndefined(),
  );
});

describe('overlaps and contains', () => {
  it.each([
    ['10.0.0.0/24', '10.0.0.0/24', true, true],
    ['10.0.0.0/16', '10.0.3.0/24', true, true],
    ['10.0.3.0/24', '10.0.0.0/16', true, false],
    ['10.0.0.0/24', '10.0.1.0/24', false, false],
    ['10.0.0.0/25', '10.0.0.128/25', false, false],
    ['10.0.0.0/23', '10.0.1.128/25', true, true],
  ])('%s and %s: overlap %s, first contains second %s', (a, b, overlap, contained) => {
    expect(overlaps(c(a), c(b))).toBe(overlap);
    expect(overlaps(c(b), c(a))).toBe(overlap);
    expect(contains(c(a), c(b))).toBe(contained);
  });

  it('hostAddress counts from the network address', () => {
    expect(hostAddress(c('10.0.128.0/24'), 2)).toBe('10.0.128.2');
    expect(hostAddress(c('10.0.126.0/23'), 300)).toBe('10.0.127.44');
  });
});

describe('allocateCidrs', () => {
  it.each([
    // pool, in use, prefix, count → blocks
    ['an empty pool gives the lowest blocks', ['10.0.128.0/17'], [], 24, 3, ['10.0.128.0/24', '10.0.129.0/24', '10.0.130.0/24']],
    ['skips blocks in use', ['10.0.128.0/17'], ['10.0.128.0/24', '10.0.130.0/24'], 24, 2, ['10.0.129.0/24', '10.0.131.0/24']],
    ['skips a block partly covered by a smaller subnet in use', ['10.0.128.0/22'], ['10.0.128.64/26'], 24, 1, ['10.0.129.0/24']],
    ['skips blocks inside a larger subnet in use', ['10.0.128.0/22'], ['10.0.128.0/23'], 24, 2, ['10.0.130.0/24', '10.0.131.0/24']],
    ['uses the next pool block when the first is full', ['10.0.128.0/24', '10.1.0.0/24'], ['10.0.128.0/24'], 25, 2, ['10.1.0.0/25', '10.1.0.128/25']],
    ['ignores a pool block smaller than one subnet', ['10.0.128.0/26', '10.0.200.0/24'], [], 24, 1, ['10.0.200.0/24']],
    ['in-use subnets outside the pool change nothing', ['10.0.128.0/17'], ['10.0.10.0/24', '192.168.0.0/16'], 24, 1, ['10.0.128.0/24']],
    ['a regional subnet: one block', ['10.0.128.0/17'], [], 20, 1, ['10.0.128.0/20']],
    ['none needed', ['10.0.128.0/17'], [], 24, 0, []],
  ])('%s', (_, pool, used, prefix, count, expected) => {
    expect(allocateCidrs(pool, used, prefix, count)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['an exhausted pool', ['10.0.128.0/23'], ['10.0.128.0/24'], 24, 2, 'subnetPool 10.0.128.0/23 has room for 1 more /24 subnet, 2 needed (1 subnet of the VCN in use): widen the pool or use a longer prefixLength'],
    ['a pool of blocks all smaller than the subnet', ['10.0.128.0/26'], [], 24, 1, 'subnetPool 10.0.128.0/26 has room for 0 more /24 subnets, 1 needed (0 subnets of the VCN in use): widen the pool or use a longer prefixLength'],
    ['a malformed pool block', ['10.0.128.1/17'], [], 24, 1, 'subnetPool: 10.0.128.1/17 is not an IPv4 CIDR block such as 10.0.128.0/17'],
    ['a prefix too long for OCI', ['10.0.128.0/17'], [], 31, 1, 'prefixLength: 31 is not between 1 and 30'],
    ['an unreadable subnet in use', ['10.0.128.0/17'], ['fd00::/64'], 24, 1, 'a subnet in use has CIDR fd00::/64, which is not an IPv4 CIDR block'],
  ])('refuses %s', (_, pool, used, prefix, count, message) => {
    expect(allocateCidrs(pool, used, prefix, count)).toEqual({ ok: false, message });
  });
});
