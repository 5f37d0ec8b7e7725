import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/core/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    // every unit
    ['250ms', 250],
    ['90s', 90 * S],
    ['15m', 15 * M],
    ['24h', 24 * H],
    ['7d', 7 * D],
    // zero
    ['0s', 0],
    ['0ms', 0],
    ['0d', 0],
    // fractions, rounded to the millisecond
    ['1.5h', 90 * M],
    ['0.5s', 500],
    ['2.25m', 135 * S],
    ['0.0004s', 0],
    ['0.0006s', 1],
    ['1.5ms', 2],
    // leading zeros, surrounding white space
    ['007m', 7 * M],
    ['  10m\t', 10 * M],
    // huge but finite
    ['36500d', 36500 * D],
    ['99999999999999999999d', 99999999999999999999 * D],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    // plain milliseconds as a number
    [0, 0],
    [1, 1],
    [1500, 1500],
    [0.5, 0.5],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ])('the number %d is %d ms', (n, ms) => {
    expect(parseDuration(n)).toBe(ms);
  });

  it.each([
    [''],
    ['   '],
    ['0'], // a string needs a unit
    ['90'],
    ['s'],
    ['soon'],
    ['-5s'],
    ['+5s'],
    ['1w'], // no weeks
    ['1y'],
    ['10M'], // units are lower case
    ['10S'],
    ['1H'],
    ['10 m'], // no space before the unit
    ['1h30m'], // one number, one unit
    ['.5s'],
    ['5.s'],
    ['1.2.3s'],
    ['1e3s'],
    ['0x10s'],
    ['1,5h'],
    ['10sec'],
    ['10min'],
    ['10ms s'],
  ])('refuses the string %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([[-1], [-0.001], [Number.NaN], [Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY]])('refuses the number %d', (n) => {
    expect(parseDuration(n)).toBeUndefined();
  });

  // Finding (product unchanged here): a number string too long to be finite comes back as Infinity, where the
  // number Infinity is refused. Bounded inputs (boundedDuration) still refuse it; maxAge etc. would take it.
  it('refuses a string whose number is not finite, as it refuses the number Infinity', () => {
    expect(parseDuration(`1${'0'.repeat(400)}d`)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [1, '1ms'],
    [999, '999ms'],
    [1500, '1500ms'],
    [S, '1s'],
    [90 * S, '90s'],
    [M, '1m'],
    [90 * M, '90m'],
    [H, '1h'],
    [36 * H, '36h'],
    [D, '1d'],
    [30 * D, '30d'],
  ])('%d ms is %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([[0], [1], [999], [S], [61 * S], [M], [25 * H], [D], [400 * D], [D + 1]])('parseDuration reads back formatDuration(%d)', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
