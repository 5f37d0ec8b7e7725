// Maintenance windows: when a node group's lane may start repaves for aged, drifted or keyring-behind nodes. Each window is
// days of the week and a span of local time in an IANA time zone; luxon does the wall-clock arithmetic (DST).
import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const DAY = new RegExp(`^(${WEEKDAYS.join('|')})(-(${WEEKDAYS.join('|')}))?$`);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time "HH:MM" (00:00 to 23:59)');

export const maintenanceWindowSchema = z.strictObject({
  /** Days the window starts on: names or ranges ("mon-fri", "sat"); default every day. */
  days: z.array(z.string().regex(DAY, 'expected a day (mon..sun) or a range such as "mon-fri"')).min(1).default(['mon-sun']),
  /** Local time it opens. */
  start: hhmm,
  /** Local time it closes; at or before `start`: on the next day. */
  end: hhmm,
  timeZone: z.string().refine((z) => IANAZone.isValidZone(z), { message: 'expected an IANA time zone such as "Europe/Paris" or "UTC"' }),
});
export type MaintenanceWindow = z.output<typeof maintenanceWindowSchema>;

/** Luxon weekday numbers (1 = Monday) a window starts on. */
function weekdaysOf(days: string[]): Set<number> {
  const out = new Set<number>();
  for (const d of days) {
    const [from, to = from] = d.split('-') as [(typeof WEEKDAYS)[number], (typeof WEEKDAYS)[number]?];
    const a = WEEKDAYS.indexOf(from);
    const b = WEEKDAYS.indexOf(to!);
    for (let i = a; ; i = (i + 1) % 7) {
      out.add(i + 1);
      if (i === b) break;
    }
  }
  return out;
}

export interface WindowState {
  open: boolean;
  /** Epoch ms the open window closes (the latest of overlapping ones). */
  closesAt?: number;
  /** Epoch ms the next window opens (when closed; within the next 8 days). */
  opensAt?: number;
}

/** Whether any window is open at `now`, and when that changes (windows that overlap or touch count as one). */
export function windowState(windows: MaintenanceWindow[], now: number): WindowState {
  const spans: [number, number][] = [];
  for (const w of windows) {
    const days = weekdaysOf(w.days);
    const [sh, sm] = w.start.split(':').map(Number) as [number, number];
    const [eh, em] = w.end.split(':').map(Number) as [number, number];
    const today = DateTime.fromMillis(now, { zone: w.timeZone }).startOf('day');
    for (let offset = -1; offset <= 8; offset++) {
      const day = today.plus({ days: offset });
      if (!days.has(day.weekday)) continue;
      const endDay = eh * 60 + em <= sh * 60 + sm ? day.plus({ days: 1 }) : day;
      spans.push([day.set({ hour: sh, minute: sm }).toMillis(), endDay.set({ hour: eh, minute: em }).toMillis()]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [a, b] of spans) {
    const last = merged[merged.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  const open = merged.find(([a, b]) => a <= now && now < b);
  if (open) return { open: true, closesAt: open[1] };
  const next = merged.find(([a]) => a > now);
  return { open: false, ...(next ? { opensAt: next[0] } : {}) };
}
