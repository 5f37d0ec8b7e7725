// How loaded the sim process is, so a benchmark can show the sim is not what limits it: the service time of its
// Kubernetes API requests (watches excluded: they last as long as the client keeps them) and its event-loop delay.
// GET /sim/load on the control API reads them, DELETE /sim/load reads them and starts over.
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ControlRoutes } from './control.js';

const msOf = (h: RecordableHistogram | ReturnType<typeof monitorEventLoopDelay>, p: number) => (h.count ? Number((h.percentile(p) / 1e6).toFixed(2)) : 0);
const summary = (h: RecordableHistogram | ReturnType<typeof monitorEventLoopDelay>) => ({ count: h.count, p50Ms: msOf(h, 50), p99Ms: msOf(h, 99), maxMs: h.count ? Number((h.max / 1e6).toFixed(2)) : 0 });

export class SimLoad {
  private requests = createHistogram();
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loop.enable();
  }

  /** One Kubernetes API request answered, `ns` after it arrived. */
  request(ns: bigint): void {
    this.requests.record(ns > 0n ? ns : 1n);
  }

  snapshot() {
    const { count: _samples, ...eventLoopDelay } = summary(this.loop);
    return { kubeRequests: summary(this.requests), eventLoopDelay };
  }

  reset(): void {
    this.requests.reset();
    this.loop.reset();
  }

  stop(): void {
    this.loop.disable();
  }

  readonly routes: ControlRoutes = (method, path) => {
    if (path !== '/sim/load') return undefined;
    if (method === 'GET') return { status: 200, body: this.snapshot() };
    if (method === 'DELETE') {
      const recorded = this.snapshot();
      this.reset();
      return { status: 200, body: recorded };
    }
    return { status: 405, body: { message: `${method} is not allowed on /sim/load; GET reads, DELETE starts over` } };
  };
}

const isWatch = (url = '') => /[?&]watch=(true|1)\b/.test(url) || url.includes('/watch/');

/** `handler`, recording each answered request's service time in `load` (watches excluded). */
export function timedHandler(handler: (req: IncomingMessage, res: ServerResponse) => void, load: SimLoad) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const arrived = process.hrtime.bigint();
    if (!isWatch(req.url)) res.once('finish', () => load.request(process.hrtime.bigint() - arrived));
    handler(req, res);
  };
}
