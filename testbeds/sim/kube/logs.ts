// pods/log: what the kubelet answers for a container, checked first as kube-apiserver does.
import type { KObject } from './resources.js';
import { errors } from './status.js';

/** One line per container start (the sim's containers print nothing else); kube-apiserver's refusals word for word. */
export function podLog(pod: KObject, container: string | null): string {
  const name = pod.metadata.name;
  const containers: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
  if (container === null && containers.length !== 1) throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
  const c = container ?? containers[0]!;
  if (!containers.includes(c)) throw errors.badRequest(`container ${c} is not valid for pod ${name}`);
  const status = (pod.status?.containerStatuses ?? []).find((s: { name: string }) => s.name === c) as { state?: { running?: { startedAt?: string } } } | undefined;
  const startedAt = status?.state?.running?.startedAt;
  if (!startedAt) throw errors.badRequest(`container "${c}" in pod "${name}" is waiting to start: ContainerCreating`);
  return `${startedAt} container ${c} of pod ${pod.metadata.namespace}/${name} started on node ${pod.spec?.nodeName}\n`;
}
