// What a kubelet reports for a freshly registered node; shared by the in-memory API and the
// control-plane backend (where KWOK takes over the node's status afterwards).

const condition = (at: string, type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastHeartbeatTime: at,
  lastTransitionTime: at,
});

export function kubeletCapacity() {
  return {
    capacity: { cpu: '4', 'ephemeral-storage': '100Gi', memory: '16Gi', pods: '110' },
    allocatable: { cpu: '3800m', 'ephemeral-storage': '95Gi', memory: '15Gi', pods: '110' },
  };
}

export function kubeletConditions(ready: boolean, at: string) {
  return [
    condition(at, 'MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    condition(at, 'DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    condition(at, 'PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    ready
      ? condition(at, 'Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
      : condition(at, 'Ready', 'False', 'KubeletNotReady', 'container runtime network not ready: NetworkReady=false'),
  ];
}

/** The node's system info as its kubelet reports it; `seq` makes the machine, system and boot ids unique. */
export function kubeletNodeInfo(seq: number, versions: { kubelet: string; kubeProxy: string }) {
  const hex = (width: number) => seq.toString(16).padStart(width, '0');
  return {
    machineID: hex(32),
    systemUUID: `00000000-0000-0000-0000-${hex(12)}`,
    bootID: `b0000000-0000-0000-0000-${hex(12)}`,
    kernelVersion: '5.15.0-300.163.18.el8uek.x86_64',
    osImage: 'Oracle Linux Server 8.10',
    containerRuntimeVersion: 'containerd://1.7.24',
    kubeletVersion: versions.kubelet,
    kubeProxyVersion: versions.kubeProxy,
    operatingSystem: 'linux',
    architecture: 'amd64',
  };
}
