// Whether a node is unhealthy, and since when.
import { formatDuration } from '../duration.js';
import type { ObservedCondition, ObservedNode, UnhealthyReport } from './observed.js';
import { MINUTE } from './names.js';


export interface NodeHealth {
  unhealthy: boolean;
  /** 3 NotReady, 2 reported, 1 problem condition, 0 healthy. */
  severity: number;
  /** Epoch ms since when the worst problem holds (reports: when received). */
  since?: number;
  reasons: string[];
  /** Counts against the group's availability now (NotReady past a grace, or cordoned). */
  unavailable: boolean;
}

/** A node condition other than Ready is a problem when True (kubelet pressure, node-problem-detector conditions). */
const isProblem = (c: ObservedCondition) => c.type !== 'Ready' && c.status === 'True';

/**
 * Whether a sweep keeps a condition in its observation: only those assessHealth reads (Ready when not True, the
 * others when True). Every sweep's observation is recorded in the lane's history, and a healthy node's four
 * kubelet conditions were half of it.
 */
export const observedConditionMatters = (c: Pick<ObservedCondition, 'type' | 'status'>) => (c.type === 'Ready' ? c.status !== 'True' : c.status === 'True');
const sinceMs = (c: ObservedCondition) => (c.since ? Date.parse(c.since) : Number.NEGATIVE_INFINITY);

export function assessHealth(n: ObservedNode, report: UnhealthyReport | undefined, now: number, unhealthyAfterMs: number): NodeHealth {
  const reasons: string[] = [];
  let severity = 0;
  let since: number | undefined;
  const worse = (sev: number, at: number) => {
    if (sev > severity) {
      severity = sev;
      since = at;
    } else if (sev === severity && since !== undefined && at < since) since = at;
  };
  const createdAt = Date.parse(n.createdAt);
  const readyCond = n.conditions.find((c) => c.type === 'Ready');
  if (!n.ready) {
    // A node that never was Ready (still booting) is measured from its creation.
    const t = Math.max(readyCond ? sinceMs(readyCond) : Number.NEGATIVE_INFINITY, createdAt);
    if (now - t >= unhealthyAfterMs) {
      worse(3, t);
      reasons.push(`NotReady for ${formatDuration(roundMin(now - t))}${readyCond?.reason ? ` (${readyCond.reason})` : ''}`);
    }
  }
  if (report) {
    worse(2, Date.parse(report.at));
    reasons.push(`reported: ${report.reason}`);
  }
  for (const c of n.conditions.filter(isProblem)) {
    const t = sinceMs(c);
    if (now - t >= unhealthyAfterMs) {
      worse(1, t);
      reasons.push(`${c.type}${c.reason ? ` (${c.reason})` : ''}${Number.isFinite(t) ? ` for ${formatDuration(roundMin(now - t))}` : ''}`);
    }
  }
  const unhealthy = severity > 0;
  const unavailable = unhealthy || n.unschedulable || (!n.ready && now - createdAt >= unhealthyAfterMs);
  return { unhealthy, severity, ...(since !== undefined ? { since } : {}), reasons, unavailable };
}

/** Durations in messages: whole minutes, or whole seconds under a minute. */
export const roundMin = (ms: number) => (ms >= MINUTE ? Math.floor(ms / MINUTE) * MINUTE : Math.floor(ms / 1000) * 1000);
