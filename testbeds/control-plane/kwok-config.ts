/**
 * KWOK's configuration for the test bed: the stages by which it plays the kubelet of every node that
 * carries the annotation `kwok.x-k8s.io/node=fake` (testbeds/control-plane/real-cluster.ts registers every node with it:
 * KWOK takes a node, its lease and its pods on only when it sees it created with the annotation).
 * The simulated instance's kubelet state is the annotation `itinerant.dev/kubelet`:
 * `starting` (registered NotReady), `ready`, `stopped` (the instance is terminating).
 *
 * - node-ready: kubelet `ready` → the node reports Ready (keeping the capacity, addresses and nodeInfo it registered with).
 * - node-not-ready: kubelet `stopped` → the node reports NotReady (reason in `itinerant.dev/kubelet-reason`).
 * - pod-ready: a pod bound to a managed node starts: Running, Ready, containers running.
 * - pod-crash-loop: a pod with a container of CRASH_LOOPING_IMAGE starts Running but never Ready, that container in
 *   CrashLoopBackOff with restarts (what a bad application image does; the sim's `crashLoopImages` fault is its twin).
 * - pod-delete: a terminating pod without finalizers goes away, after the delay in its annotation
 *   `pod-delete.stage.kwok.x-k8s.io/delay` (e.g. "6s"; none = at once). This is how the control-plane
 *   backend reproduces the sim's `evictionDelayMs` fault (pods that linger while they terminate).
 */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_ANNOTATION_VALUE = 'fake';
export const KUBELET_STATE_ANNOTATION = 'itinerant.dev/kubelet';
export const KUBELET_REASON_ANNOTATION = 'itinerant.dev/kubelet-reason';
export const KWOK_POD_DELETE_DELAY_ANNOTATION = 'pod-delete.stage.kwok.x-k8s.io/delay';
/** Pods running this image crash-loop (stage pod-crash-loop). */
export const CRASH_LOOPING_IMAGE = 'registry.example.com/shop/api:crashloop';

/**
 * A stage for a node whose kubelet is in state `kubelet` and whose Ready condition is `In`/`NotIn` "True":
 * it reports the kubelet's conditions, with `ready` as the Ready condition's flow-mapping fields.
 */
const nodeStage = (name: string, kubelet: string, readyIs: 'In' | 'NotIn', ready: string) => `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.metadata.annotations["${KUBELET_STATE_ANNOTATION}"]'
      operator: 'In'
      values: ['${kubelet}']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: '${readyIs}'
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {type: MemoryPressure, status: "False", reason: KubeletHasSufficientMemory, message: "kubelet has sufficient memory available", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
      - {type: DiskPressure, status: "False", reason: KubeletHasNoDiskPressure, message: "kubelet has no disk pressure", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
      - {type: PIDPressure, status: "False", reason: KubeletHasSufficientPID, message: "kubelet has sufficient PID available", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, ${ready}, lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
`;

export const KWOK_CONFIG = `${nodeStage('node-ready', 'ready', 'NotIn', 'status: "True", reason: KubeletReady, message: "kubelet is posting ready status"')}      phase: Running
---
${nodeStage('node-not-ready', 'stopped', 'In', `status: "False", reason: {{ or (index .metadata.annotations "${KUBELET_REASON_ANNOTATION}") "KubeletNotReady" | Quote }}, message: "kubelet stopped posting node status"`)}---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '.spec.containers.[].image'
      operator: 'NotIn'
      values: ['${CRASH_LOOPING_IMAGE}']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {type: PodReadyToStartContainers, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: PodScheduled, status: "True", lastTransitionTime: {{ $now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, started: true, restartCount: 0, state: {running: {startedAt: {{ $now | Quote }}}}}
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-crash-loop
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '.spec.containers.[].image'
      operator: 'In'
      values: ['${CRASH_LOOPING_IMAGE}']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {type: PodReadyToStartContainers, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
      - {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
      - {type: PodScheduled, status: "True", lastTransitionTime: {{ $now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      {{ if eq .image "${CRASH_LOOPING_IMAGE}" }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, started: false, restartCount: 5, state: {waiting: {reason: CrashLoopBackOff, message: "back-off 1m20s restarting failed container"}}, lastState: {terminated: {exitCode: 1, reason: Error, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}}
      {{ else }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, started: true, restartCount: 0, state: {running: {startedAt: {{ $now | Quote }}}}}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
    - key: '.metadata.finalizers'
      operator: 'DoesNotExist'
  delay:
    durationMilliseconds: 0
    durationFrom:
      expressionFrom: '.metadata.annotations["${KWOK_POD_DELETE_DELAY_ANNOTATION}"]'
  next:
    delete: true
`;

/**
 * KWOK's `Exec` resource (kwok.x-k8s.io/v1alpha1): for the pod of the same namespace and name, which
 * local command answers pods/exec (`spec.execs[].local`: environment, working directory). Our own
 * minimal definition (the schema is KWOK's to enforce; it reads the objects with its typed client).
 */
export const KWOK_EXEC_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: execs.kwok.x-k8s.io
spec:
  group: kwok.x-k8s.io
  scope: Namespaced
  names: {kind: Exec, listKind: ExecList, plural: execs, singular: exec}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

/**
 * pods/log for every container KWOK plays: one line (CRI log format, as a kubelet keeps it) from `logsFile`,
 * so `kubectl logs` answers as on a cluster whose containers printed something (the sim: a line per container).
 */
export const kwokClusterLogs = (logsFile: string) => `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: every-container
spec:
  logs:
  - containers: []
    logsFile: ${JSON.stringify(logsFile)}
    follow: false
`;
export const KWOK_CONTAINER_LOG = '2026-01-01T00:00:00.000000000Z stdout F container started (kwok)\n';
