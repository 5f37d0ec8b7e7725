// State shared by the parts of one simulated API server.

import type { LatencyFault } from '../latency.js';
import type { ObjectStore } from './store.js';

/** Node label the OCI sim sets on nodes booted from an image whose DaemonSet pods crash-loop (badImages): their kubelet crash-loops them. */
export const SIM_LABEL_DAEMONSETS_CRASH_LOOP = 'sim.itinerant.dev/daemonsets-crash-loop';

export interface KubeFaults extends LatencyFault {
  /** 0..1, fraction of API requests answered with errorStatus. */
  errorRate: number;
  /** 429 | 500 */
  errorStatus: number;
  /** Pods being deleted/evicted stay Terminating this long. */
  evictionDelayMs: number;
  /** Every eviction answers 429. */
  blockEvictions: boolean;
  /**
   * The next this many evictions of pods under a PodDisruptionBudget answer 409, as kube-apiserver does when evictions
   * race on one budget's status beyond its own retries.
   */
  evictionConflicts?: number;
  /** Bound pod → Running + Ready after this long. */
  podStartDelayMs: number;
  /** Containers of these images crash-loop: Running, never Ready, CrashLoopBackOff with restarts (the KWOK Stage's twin). */
  crashLoopImages?: string[];
}

export interface KubeTiming {
  /** Reaction latency of the controllers (scheduler, ReplicaSet, DaemonSet...) after a change. */
  controllerDelayMs: number;
}

// a type alias (not an interface) so that it is assignable to Record<string, number>
export type Counters = {
  evictions: number;
  evictionsRefused: number;
  /** Pods deleted through the API (DELETE), i.e. not by eviction nor by controllers. */
  deletedPods: number;
  /** PersistentVolumeClaims deleted through the API (DELETE of one that existed). */
  deletedClaims: number;
  /** Requests answered with the errorRate fault. */
  injectedErrors: number;
};

/** setTimeout bookkeeping so that close() leaves nothing behind; keyed timers are deduplicated. */
export class Timers {
  private readonly all = new Set<NodeJS.Timeout>();
  private readonly keyed = new Map<string, NodeJS.Timeout>();
  private closed = false;

  after(ms: number, fn: () => void, key?: string): void {
    if (this.closed) return;
    if (key !== undefined && this.keyed.has(key)) return;
    const t = setTimeout(() => {
      this.all.delete(t);
      if (key !== undefined) this.keyed.delete(key);
      fn();
    }, Math.max(0, ms));
    this.all.add(t);
    if (key !== undefined) this.keyed.set(key, t);
  }

  clear(): void {
    this.closed = true;
    for (const t of this.all) clearTimeout(t);
    this.all.clear();
    this.keyed.clear();
  }
}

export interface SimContext {
  clusterName: string;
  store: ObjectStore;
  now: () => Date;
  faults: KubeFaults;
  timing: KubeTiming;
  counters: Counters;
  timers: Timers;
}

/** Kubernetes timestamps: RFC 3339, second precision. */
export function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** 5-character suffix as utilrand.String(5) would generate. */
export function randSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUMS[Math.floor(Math.random() * ALPHANUMS.length)];
  return s;
}

/** Stable short hash (fnv-1a 32, encoded like k8s SafeEncodeString), e.g. for pod-template-hash. */
export function shortHash(value: unknown): string {
  const s = stableJson(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = '';
  for (const ch of String(h)) out += ALPHANUMS[Number(ch) % ALPHANUMS.length];
  return out;
}

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
