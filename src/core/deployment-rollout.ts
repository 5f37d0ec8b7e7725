// rolloutDeployment: its input, what the Deployment activities observe, and the pure judgement of a rollout in
// progress (complete, canary reached, failed, still going) from the Deployment's status and its new pods.
import { z } from 'zod';
import { countOrPercent, nodeCountOf } from './group-size.js';
import { boundedDuration, type ParseResult, parseObjectInput } from './input.js';
import type { EndPhase, RunbookProgress } from './runbook.js';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS label (a-z, 0-9, "-")');
const k8sName = z.string().max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Kubernetes object name');

export const rolloutDeploymentInputSchema = z.strictObject({
  cluster: dnsLabel,
  namespace: dnsLabel,
  deployment: k8sName,
  /** Container name → its new image. */
  images: z.record(dnsLabel, z.string().min(1).max(512)).refine((m) => Object.keys(m).length > 0, 'expected at least one container'),
  /** How long the rollout may take to complete (or to roll back) before it is given up. */
  progressDeadline: boundedDuration('10m', 1000, 6 * 3_600_000),
  gates: z
    .strictObject({
      /** A new pod's containers restarted this many times, or in CrashLoopBackOff, fails the rollout. */
      maxRestarts: z.number().int().min(1).default(3),
    })
    .prefault({}),
  /** Pause after the first replicas run the new template: soak, gates, optional approval, then go on. */
  canary: z
    .strictObject({
      replicas: countOrPercent,
      soak: boundedDuration('5m', 0, 24 * 3_600_000),
      approval: z.boolean().default(false),
    })
    .optional(),
  approvalTimeout: boundedDuration('24h', 1000, 14 * 86_400_000),
  onApprovalTimeout: z.enum(['continue', 'rollback']).default('rollback'),
});

export type RolloutDeploymentInput = z.input<typeof rolloutDeploymentInputSchema>;
export type RolloutDeploymentRequest = z.output<typeof rolloutDeploymentInputSchema>;

export const parseRolloutDeploymentInput = (input: unknown): ParseResult<RolloutDeploymentRequest> =>
  parseObjectInput(rolloutDeploymentInputSchema, input, '{"cluster": "sim-1", "namespace": "shop", "deployment": "web", "images": {"web": "registry/web:2"}}');

export interface DeploymentRef {
  cluster: string;
  namespace: string;
  deployment: string;
}

/** What the activities observe of a Deployment (no pod template: it may hold secrets). */
export interface DeploymentFacts {
  exists: boolean;
  generation: number;
  observedGeneration: number;
  /** spec.replicas */
  replicas: number;
  /** status.replicas: pods of every ReplicaSet. */
  current: number;
  updated: number;
  ready: number;
  available: number;
  paused: boolean;
  /** deployment.kubernetes.io/revision */
  revision?: number;
  /** pod-template-hash of the newest ReplicaSet: names a template across the renumbering of an undo. */
  templateHash?: string;
  containers: { name: string; image: string }[];
  /** The Progressing condition's reason (ProgressDeadlineExceeded: the controller gave up). */
  progressingReason?: string;
  /** Pods of the newest ReplicaSet. */
  newPods: { name: string; ready: boolean; restarts: number; waiting?: string }[];
}

/** Why the Deployment may not be rolled out now, or undefined. */
export function checkDeploymentTarget(f: DeploymentFacts, req: Pick<RolloutDeploymentRequest, 'namespace' | 'deployment' | 'images'>): string | undefined {
  const name = `${req.namespace}/${req.deployment}`;
  if (!f.exists) return `Deployment ${name} does not exist`;
  const unknown = Object.keys(req.images).filter((c) => !f.containers.some((k) => k.name === c));
  if (unknown.length) return `Deployment ${name} has no container ${unknown.join(', ')} (it has ${f.containers.map((c) => c.name).join(', ')})`;
  if (f.paused) return `Deployment ${name} is paused; resume it (kubectl rollout resume) or finish what paused it first`;
  if (f.observedGeneration < f.generation || f.updated < f.replicas || f.current > f.replicas) return `Deployment ${name} is still rolling out its last change`;
  if (Object.entries(req.images).every(([c, image]) => f.containers.find((k) => k.name === c)!.image === image)) return `Deployment ${name} already runs ${Object.values(req.images).join(', ')}`;
  return undefined;
}

export type RolloutState = { state: 'complete' | 'canary' | 'progressing' } | { state: 'failed'; why: string };

const BAD_WAITING = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerError', 'RunContainerError', 'InvalidImageName']);

/** Where a rollout stands; `canary`: the number of new replicas to stop at. */
export function judgeRollout(f: DeploymentFacts, gates: RolloutDeploymentRequest['gates'], canary?: number): RolloutState {
  // Until the controller has seen the change, the newest ReplicaSet and its pods may be those of the template before.
  if (f.observedGeneration < f.generation) return { state: 'progressing' };
  for (const p of f.newPods) {
    if (p.waiting && BAD_WAITING.has(p.waiting)) return { state: 'failed', why: `pod ${p.name} is ${p.waiting}` };
    if (p.restarts >= gates.maxRestarts) return { state: 'failed', why: `pod ${p.name} restarted ${p.restarts} times` };
  }
  if (f.progressingReason === 'ProgressDeadlineExceeded') return { state: 'failed', why: 'the Deployment controller reports ProgressDeadlineExceeded' };
  if (canary !== undefined && f.newPods.filter((p) => p.ready).length >= canary) return { state: 'canary' };
  const done = f.updated === f.replicas && f.current === f.replicas && f.ready === f.replicas && f.available === f.replicas;
  return { state: done ? 'complete' : 'progressing' };
}

export const canaryReplicasOf = (canary: NonNullable<RolloutDeploymentRequest['canary']>, replicas: number) => Math.min(replicas, Math.max(1, nodeCountOf(canary.replicas, replicas)));

export type DeploymentRolloutPhase = 'validating' | 'rolling-out' | 'canary-soak' | 'awaiting-approval' | 'rolling-back' | EndPhase;

export interface DeploymentRolloutProgress extends RunbookProgress<DeploymentRolloutPhase> {
  namespace: string;
  deployment: string;
  images: Record<string, string>;
  previousRevision?: number;
  previousTemplate?: string;
  outcome?: 'rolled-out' | 'rolled-back' | 'aborted';
}

export interface RolloutDeploymentResult {
  outcome: 'rolled-out';
  revision: number;
  images: Record<string, string>;
}
