// itinerant rbac render: the worker's RBAC for one cluster of the fleet file, on stdout (for kubectl apply -f -).
import { renderWorkerRbac } from '../config/worker-rbac.js';
import { EXIT } from './errors.js';
import { loadConfig, pickCluster } from './fleet.js';

export function rbacRenderCommand(opts: { config: string; cluster?: string }): number {
  const cluster = pickCluster(loadConfig(opts.config), opts.config, opts.cluster);
  process.stdout.write(renderWorkerRbac(cluster));
  return EXIT.ok;
}
