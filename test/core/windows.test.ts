import { describe, expect, it } from 'vitest';
import { maintenanceWindowSchema, windowState, type MaintenanceWindow } from '../../src/core/windows.js';

const w = (v: Record<string, unknown>): MaintenanceWindow => maintenanceWindowSchema.parse(v);
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('maintenance windows', () => {
  const weeknights = w({ days: ['mon-fri'], start: '22:00', end: '06:00', timeZone: 'Europe/Berlin' });

  it.each([
    // 2025-03-05 is a Wednesday; Berlin is UTC+1 in winter.
    { name: 'inside, before midnight', now: '2025-03-05T21:30:00Z', open: true, closesAt: '2025-03-06T05:00:00.000Z' },
    { name: 'inside, after midnight (the window started the day before)', now: '2025-03-06T03:00:00Z', open: true, closesAt: '2025-03-06T05:00:00.000Z' },
    { name: 'closed in the afternoon: opens tonight', now: '2025-03-05T14:00:00Z', open: false, opensAt: '2025-03-05T21:00:00.000Z' },
    { name: 'Friday night runs into Saturday morning', now: '2025-03-08T04:00:00Z', open: true, closesAt: '2025-03-08T05:00:00.000Z' },
    { name: 'closed over the weekend: opens Monday night', now: '2025-03-08T12:00:00Z', open: false, opensAt: '2025-03-10T21:00:00.000Z' },
    { name: 'the window end is exclusive', now: '2025-03-06T05:00:00Z', open: false, opensAt: '2025-03-06T21:00:00.000Z' },
  ])('$name', ({ now, open, closesAt, opensAt }) => {
    const s = windowState([weeknights], at(now));
    expect({ open: s.open, closesAt: iso(s.closesAt), opensAt: iso(s.opensAt) }).toEqual({ open, closesAt, opensAt });
  });

  it('keeps local hours across DST: the same 02:00–04:00 window is 1h earlier in UTC in summer, and shorter the night clocks go forward', () => {
    const night = w({ start: '01:30', end: '04:00', timeZone: 'Europe/Berlin' });
    expect(iso(windowState([night], at('2025-01-15T12:00:00Z')).opensAt)).toBe('2025-01-16T00:30:00.000Z'); // UTC+1
    expect(iso(windowState([night], at('2025-07-15T12:00:00Z')).opensAt)).toBe('2025-07-15T23:30:00.000Z'); // UTC+2
    // 2025-03-30: 02:00 becomes 03:00. The window opens at 01:30 CET and closes at 04:00 CEST: 1.5 real hours.
    const spring = windowState([night], at('2025-03-30T00:45:00Z'));
    expect(spring).toEqual({ open: true, closesAt: at('2025-03-30T02:00:00Z') });
    // 2025-10-26: 03:00 becomes 02:00 again. 01:30 CEST to 04:00 CET: 3.5 real hours.
    const autumn = windowState([night], at('2025-10-25T23:30:00Z'));
    expect(autumn).toEqual({ open: true, closesAt: at('2025-10-26T03:00:00Z') });
  });

  it('a window that starts in a DST gap opens when the clocks have moved on', () => {
    const gap = w({ days: ['sun'], start: '02:30', end: '05:00', timeZone: 'Europe/Berlin' });
    expect(iso(windowState([gap], at('2025-03-29T12:00:00Z')).opensAt)).toBe('2025-03-30T01:30:00.000Z'); // 03:30 CEST
  });

  it('the earliest of several windows opens first, overlapping ones close with the last', () => {
    const a = w({ days: ['sat'], start: '08:00', end: '12:00', timeZone: 'UTC' });
    const b = w({ days: ['sat'], start: '11:00', end: '14:00', timeZone: 'UTC' });
    const ny = w({ days: ['fri'], start: '23:00', end: '23:30', timeZone: 'America/New_York' }); // Sat 04:00 UTC
    expect(iso(windowState([a, b, ny], at('2025-03-07T12:00:00Z')).opensAt)).toBe('2025-03-08T04:00:00.000Z');
    expect(iso(windowState([a, b], at('2025-03-08T10:00:00Z')).closesAt)).toBe('2025-03-08T14:00:00.000Z');
  });

  it('refuses what it cannot read', () => {
    expect(() => w({ start: '25:00', end: '06:00', timeZone: 'UTC' })).toThrow(/HH:MM/);
    expect(() => w({ start: '22:00', end: '06:00', timeZone: 'Mars/Olympus' })).toThrow(/IANA time zone/);
    expect(() => w({ days: ['monday'], start: '22:00', end: '06:00', timeZone: 'UTC' })).toThrow(/mon-fri/);
  });
});
