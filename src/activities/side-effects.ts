// The activities that change something outside (Kubernetes, OCI, another workflow): each call of one is an audit line
// (src/workers/audit.ts). A new activity that changes anything belongs here.
export const SIDE_EFFECT_ACTIVITIES: ReadonlySet<string> = new Set([
  'claimNode',
  'releaseNode',
  'cordonNode',
  'uncordonNode',
  'drainNode',
  'deleteNode',
  'launchReplacement',
  'terminateInstance',
  'terminateLaunched',
  'claimStatefulSet',
  'releaseStatefulSet',
  'issueDecommission',
  'scaleDownStatefulSet',
  'deleteMemberClaims',
  'signalRepaverLane',
  'holdRepaverLane',
  'releaseRepaverLane',
]);
