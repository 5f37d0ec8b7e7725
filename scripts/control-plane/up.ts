/**
 * npm run control-plane:up — start the real control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, kwok) in <itinerant home>/control-plane/run/ and keep it until Ctrl-C. Prints the admin
 * and worker kubeconfigs. Builds the binaries first when they are missing.
 */
import { rmSync } from 'node:fs';
import { homePath } from '../../src/config/home.js';
import { startControlPlane } from '../../testbeds/control-plane/control-plane.js';

const dir = homePath('control-plane', 'run');
rmSync(dir, { recursive: true, force: true });
const cp = await startControlPlane({ dir, build: true, log: (l) => console.error(l) });
console.log(`control plane (kubernetes ${cp.versions.kubernetes}) at ${cp.url}, ready in ${cp.startMs} ms`);
console.log(`  admin:  kubectl --kubeconfig ${cp.adminKubeconfigPath} get nodes`);
console.log(`  worker: kubectl --kubeconfig ${cp.workerKubeconfigPath} auth can-i --list`);
console.log(`  logs:   ${cp.logsDir}`);
const done = async () => {
  await cp.stop();
  process.exit(0);
};
process.once('SIGINT', done);
process.once('SIGTERM', done);
