// How loaded the sim process is, so a benchmark can show the sim is not what limits it: the service time of its
// Kubernetes API requests (watches excluded: they last as long as the client keeps them) and its event-loop delay.
// GET /sim/load on the control API reads them, DELETE /sim/load reads them and starts over.
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ControlRoutes } from './control.js';

const msOf = (h: RecordableHistogram | ReturnType<typeof monitorEventLoopDelay>, p: number) => (h.count ? Number((h.percentile(p) / 1e6).toFixed(2)) : 0);
const summary = (h: RecordableHistogram | ReturnType<typeof monitorEventLoopDelay>) => ({ count: h.count, p50Ms: msOf(h, 50), p99Ms: msOf(h, 99), maxMs: h.count ? Number((h.max / 1e6).toFixed(2)) : 0 });

/** A request's verb and resource, names and namespaces left out: `LIST pods`, `GET nodes`, `WATCH pods`, `POST pods/eviction`. */
export function routeOf(method = 'GET', url = ''): string {
  const parts = url.split('?')[0]!.split('/').filter(Boolean);
  const skip = parts[0] === 'api' ? 2 : parts[0] === 'apis' ? 3 : 0;
  if (!skip) return `${method} /${parts[0] ?? ''}`;
  let rest = parts.slice(skip);
  if (rest[0] === 'watch') rest = rest.slice(1);
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [plural, name, sub] = rest;
  const verb = isWatch(url) ? 'WATCH' : method === 'GET' ? (name ? 'GET' : 'LIST') : method;
  return `${verb} ${plural ?? ''}${sub ? `/${sub}` : ''}`;
}

export class SimLoad {
  private requests = createHistogram();
  /** Requests by route (routeOf), watches included: what the clients ask of the sim, not only how long it takes. */
  private byRoute = new Map<string, number>();
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loop.enable();
  }

  /** One Kubernetes API request answered, `ns` after it arrived. */
  request(ns: bigint): void {
    this.requests.record(ns > 0n ? ns : 1n);
  }

  arrived(route: string): void {
    this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1);
  }

  snapshot() {
    const { count: _samples, ...eventLoopDelay } = summary(this.loop);
    const byRoute = Object.fromEntries([...this.byRoute].sort((a, b) => b[1] - a[1]));
    return { kubeRequests: { ...summary(this.requests), byRoute }, eventLoopDelay };
  }

  reset(): void {
    this.requests.reset();
    this.byRoute.clear();
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
    load.arrived(routeOf(req.method, req.url));
    if (!isWatch(req.url)) res.once('finish', () => load.request(process.hrtime.bigint() - arrived));
    handler(req, res);
  };
}
