import { describe, expect, it } from 'vitest';
import type { Keyring } from '../../src/core/keyring.js';
import { newKeyId, parseRotateKeysInput, rotationDue } from '../../src/core/rotation.js';

const DAY = 86_400_000;
const now = Date.parse('2026-12-01T00:00:00Z');
const key = (keyId: string, createdDaysAgo: number, expiresInDays: number) => ({
  keyId,
  createdAt: new Date(now - createdDaysAgo * DAY).toISOString(),
  notAfter: new Date(now + expiresInDays * DAY).toISOString(),
  fingerprint: 'sha256:x',
});
const ring = (slots: Partial<Keyring>): Keyring => ({ cluster: 'c', purpose: 'client-ca', version: 3, active: key('a', 1, 90), ...slots });
const policy = { rotateEvery: 30 * DAY, expiringWithin: 14 * DAY };

describe('rotationDue', () => {
  it.each([
    ['a young ring', ring({}), undefined],
    ['an active key as old as rotateEvery', ring({ active: key('a', 30, 60) }), /active key a is 30d old \(rotateEvery 30d\)/],
    ['an active key expiring within the threshold', ring({ active: key('a', 1, 10) }), /key a expires .* within 14d/],
    ['a retiring key expiring within the threshold', ring({ retiring: key('r', 40, 5) }), /key r expires/],
    ['a rotation left introducing', ring({ introducing: key('n', 0, 90) }), /unfinished \(n introducing\)/],
    ['a rotation left with a key to withdraw', ring({ withdrawing: key('w', 60, 30) }), /unfinished \(w to withdraw\)/],
  ])('%s', (_, r, due) => {
    const why = rotationDue(r, now, policy);
    if (due === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(due);
  });
});

describe('rotateKeys input', () => {
  it.each([
    [{ cluster: 'c', purpose: 'client-ca' }, undefined],
    [{ cluster: 'c', purpose: 'etcd' }, /purpose: Invalid option/],
    [{ cluster: 'c', purpose: 'client-ca', keyValidity: '2h' }, /keyValidity: expected a duration between 86400s/],
    [{ cluster: 'c', purpose: 'client-ca', extra: 1 }, /Unrecognized key/],
    [{ cluster: 'c', purpose: 'client-ca', spreadBy: 'direct' }, undefined],
    [{ cluster: 'c', purpose: 'client-ca', spreadBy: 'schedule' }, /spreadBy: Invalid option: expected one of "lane"\|"direct"/],
    [[], /input: expected a JSON object such as/],
  ])('%j', (input, problem) => {
    const r = parseRotateKeysInput(input);
    if (problem === undefined) expect(r.ok).toBe(true);
    else expect(r.ok ? '' : r.message).toMatch(problem);
  });
  it.each([
    [{}, 'lane'],
    [{ spreadBy: 'direct' }, 'direct'],
  ] as const)('spreads by %j: %s', (over, spreadBy) => {
    const r = parseRotateKeysInput({ cluster: 'c', purpose: 'client-ca', ...over });
    expect(r.ok && r.value.spreadBy).toBe(spreadBy);
  });
  it('key IDs: the start time and the random tail of the run ID', () => {
    expect(newKeyId(new Date('2026-11-30T23:46:22.123Z'), '019ad2a1-1988-7a29-9b88-3d8f038b8e38')).toBe('20261130t234622-8b8e38');
  });
});
