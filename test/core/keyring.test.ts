import { describe, expect, it } from 'vitest';
import {
  heldAtBoot,
  holdersBehind,
  introduce,
  KeyringRefusal,
  parseHeldKeyring,
  promote,
  resumePhase,
  trustSet,
  withdraw,
  withdrawalProblem,
  type KeyMeta,
  type Keyring,
} from '../../src/core/keyring.js';

const key = (keyId: string): KeyMeta => ({ keyId, createdAt: '2026-11-01T00:00:00Z', notAfter: '2027-02-01T00:00:00Z', fingerprint: `sha256:${keyId}` });
const ring = (slots: Partial<Pick<Keyring, 'introducing' | 'retiring' | 'withdrawing'>> = {}, version = 1): Keyring => ({
  cluster: 'c1',
  purpose: 'client-ca',
  version,
  active: key('a'),
  ...slots,
});

describe('a rotation moves each key one slot', () => {
  it('introduce → promote → withdraw, the version bumped at every step', () => {
    let r = ring({ retiring: key('r') });
    r = introduce(r, key('n'));
    expect([r.version, trustSet(r)]).toEqual([2, ['a', 'n', 'r']]);
    r = promote(r, 'n');
    expect([r.version, r.active.keyId, r.retiring?.keyId, r.withdrawing?.keyId, r.introducing]).toEqual([3, 'n', 'a', 'r', undefined]);
    expect(trustSet(r)).toEqual(['n', 'a', 'r']);
    r = withdraw(r, 'r');
    expect([r.version, trustSet(r)]).toEqual([4, ['n', 'a']]);
  });

  it('the first rotation of a ring has nothing to withdraw', () => {
    const r = promote(introduce(ring(), key('n')), 'n');
    expect([r.withdrawing, trustSet(r)]).toEqual([undefined, ['n', 'a']]);
  });

  it.each([
    ['introduce again the same key', (r: Keyring) => introduce(introduce(r, key('n')), key('n')), 2],
    ['promote again', (r: Keyring) => promote(promote(introduce(r, key('n')), 'n'), 'n'), 3],
    ['withdraw again', (r: Keyring) => withdraw(withdraw(promote(introduce(ring({ retiring: key('r') }), key('n')), 'n'), 'r'), 'r'), 4],
  ])('is idempotent: %s', (_, step, version) => {
    expect(step(ring()).version).toBe(version);
  });

  it.each([
    ['a second introducing key', () => introduce(ring({ introducing: key('n') }), key('m')), /already introducing n/],
    ['introducing while a key waits to be withdrawn', () => introduce(ring({ withdrawing: key('r') }), key('m')), /r still to withdraw/],
    ['introducing a key already trusted', () => introduce(ring({ retiring: key('r') }), key('r')), /already in the client-ca keyring/],
    ['promoting a key that is not introducing', () => promote(ring({ introducing: key('n') }), 'x'), /cannot promote x/],
    ['withdrawing the active key', () => withdraw(ring(), 'a'), /only a key promoted out/],
    ['withdrawing the retiring key', () => withdraw(ring({ retiring: key('r') }), 'r'), /only a key promoted out/],
  ])('refuses %s', (_, step, message) => {
    expect(step).toThrow(KeyringRefusal);
    expect(step).toThrow(message);
  });
});

describe('resumePhase: where a rotation that finds the ring so starts', () => {
  it.each([
    ['steady', ring({ retiring: key('r') }), 'introduce'],
    ['introducing', ring({ introducing: key('n') }), 'spread'],
    ['promoted, one to withdraw', ring({ retiring: key('a0'), withdrawing: key('r') }), 'withdraw'],
  ] as const)('%s → %s', (_, r, phase) => expect(resumePhase(r)).toBe(phase));
});

describe('withdrawalProblem: nobody may be left trusting no active key, or holding a credential nobody trusts', () => {
  const promoted = promote(introduce(ring({ retiring: key('r') }), key('n')), 'n');
  const spread = { version: 2, trusts: ['a', 'n', 'r'], signedBy: 'a' };
  it.each([
    ['every node booted after the introduction', [{ name: 'n1', held: spread }], undefined],
    ['a node that never reported', [{ name: 'n1' }], /n1 would trust no active client-ca key \(n\)/],
    ['a node booted before the introduction', [{ name: 'n1', held: { version: 1, trusts: ['a', 'r'], signedBy: 'a' } }], /n1 would trust no active/],
    ['a node whose certificate the withdrawn key signed', [{ name: 'n1', held: { version: 2, trusts: ['a', 'n', 'r'], signedBy: 'r' } }], /n1 holds a credential signed by r/],
    [
      'many stale nodes, named in short',
      ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => ({ name })),
      /n1, n2, n3 and 2 more would trust no active/,
    ],
  ])('%s', (_, holders, problem) => {
    const p = withdrawalProblem(promoted, 'r', holders);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(problem);
  });

  it('holdersBehind: those not yet at the version', () => {
    expect(holdersBehind(2, [{ name: 'a', held: spread }, { name: 'b', held: { ...spread, version: 1 } }, { name: 'c' }])).toEqual(['b', 'c']);
  });
});

describe('the keyring a node holds', () => {
  it('at boot: the version, the trust set, and for the client CA the signer of its certificate', () => {
    expect(heldAtBoot(ring({ introducing: key('n') }, 2))).toEqual({ version: 2, trusts: ['a', 'n'], signedBy: 'a' });
    expect(heldAtBoot({ ...ring(), purpose: 'service-account' })).toEqual({ version: 1, trusts: ['a'] });
  });
  it.each([
    ['{"version":3,"trusts":["a"],"signedBy":"a"}', { version: 3, trusts: ['a'], signedBy: 'a' }],
    ['{"version":"3","trusts":["a"]}', undefined],
    ['not json', undefined],
    [undefined, undefined],
  ])('parses %s', (raw, held) => expect(parseHeldKeyring(raw)).toEqual(held));
});
