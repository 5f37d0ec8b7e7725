// rolloutNodeImage: its input (an image and a plan of waves), the checks of the plan against the fleet
// configuration, the health gates as a pure judgement of what the gate activity observed, and its outcome.
import { z } from 'zod';
import type { NodeGroupConfig } from './config.js';
import { countOrPercent, nodeCountOf } from './group-size.js';
import { boundedDuration, type ParseResult, parseObjectInput } from './input.js';
import type { EndPhase, RunbookProgress } from './runbook.js';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS label (a-z, 0-9, "-")');

export const waveSchema = z.strictObject({
  /** Node groups moved to the image in this wave (dev groups in the first waves). */
  groups: z.array(dnsLabel).min(1),
  /** Nodes of each group moved in this wave: a count or a percentage of its size; default every node. */
  nodes: countOrPercent.default('100%'),
  /** Wait this long after the wave's nodes run the image before judging their health. */
  soak: boundedDuration('10m', 0, 7 * 86_400_000),
  /** Ask an operator before the next wave (or before promoting, after the last one). */
  approval: z.boolean().default(false),
});

export const rolloutNodeImageInputSchema = z.strictObject({
  cluster: dnsLabel,
  /** The channel the image is promoted to (its itinerant.dev/channel tag); one rollout per channel at a time. */
  channel: dnsLabel,
  imageId: z.string().startsWith('ocid1.image.', 'expected an image OCID'),
  waves: z.array(waveSchema).min(1, 'expected at least one wave'),
  gates: z
    .strictObject({
      /** A pod on a repaved node Pending (bound, not running) longer than this fails the gate. */
      pendingAfter: boundedDuration('5m', 1000, 86_400_000),
      /** A container on a repaved node restarted this many times, or in CrashLoopBackOff, fails the gate. */
      maxRestarts: z.number().int().min(1).default(3),
      /**
       * The operator's own check: a workflow of theirs, run as a child on their task queue with a RolloutCheckInput;
       * it passes by completing, fails the gate by failing (or by not ending within `timeout`).
       */
      check: z
        .strictObject({
          workflowType: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,99}$/, 'expected a workflow type name'),
          taskQueue: z.string().min(1).max(200),
          timeout: boundedDuration('10m', 1000, 86_400_000),
        })
        .optional(),
    })
    .prefault({}),
  /** How long an approval waits, and what happens when nobody answers. */
  approvalTimeout: boundedDuration('24h', 1000, 14 * 86_400_000),
  onApprovalTimeout: z.enum(['continue', 'rollback']).default('rollback'),
  /** How long the lanes may take to repave one wave's nodes (or to repave them back). */
  waveTimeout: boundedDuration('2h', 1000, 7 * 86_400_000),
});

export type RolloutNodeImageInput = z.input<typeof rolloutNodeImageInputSchema>;
export type RolloutNodeImageRequest = z.output<typeof rolloutNodeImageInputSchema>;
export type Wave = z.output<typeof waveSchema>;

export const parseRolloutNodeImageInput = (input: unknown): ParseResult<RolloutNodeImageRequest> =>
  parseObjectInput(rolloutNodeImageInputSchema, input, '{"cluster": "sim-1", "channel": "prod", "imageId": "ocid1.image...", "waves": [{"groups": ["dev"]}]}');

/**
 * Whether the plan fits the fleet: every group declared, with nodes, on a channel (a group pinned to an image id
 * is not rolled); a group in several waves (a canary first) moves more nodes in each, never fewer; and dev
 * groups first: no wave after one with a group on the rollout's channel has a group on another channel.
 * Returns why not, or undefined.
 */
export function checkRolloutPlan(req: Pick<RolloutNodeImageRequest, 'cluster' | 'channel' | 'waves'>, groups: Map<string, NodeGroupConfig>): string | undefined {
  const moved = new Map<string, { nodes: number; wave: number }>();
  let reachedChannel: string | undefined;
  for (const [i, wave] of req.waves.entries()) {
    if (new Set(wave.groups).size < wave.groups.length) return `waves.${i}: a node group is named twice`;
    for (const name of wave.groups) {
      const g = groups.get(name);
      if (!g) return `waves.${i}: node group ${name} is not declared for cluster ${req.cluster}`;
      if (g.size === 0) return `waves.${i}: node group ${name} has no nodes (size 0)`;
      const nodes = waveNodesOf(wave, g);
      const before = moved.get(name);
      if (before && nodes <= before.nodes) return `waves.${i}: node group ${name} moves ${nodes} node(s), no more than the ${before.nodes} of wave ${before.wave + 1}`;
      moved.set(name, { nodes, wave: i });
      if (!('channel' in g.image)) return `waves.${i}: node group ${name} runs a fixed image (${g.image.id}), not a channel; it is not rolled`;
      if (g.image.channel !== req.channel && reachedChannel) {
        return `waves.${i}: node group ${name} (channel ${g.image.channel}) comes after ${reachedChannel} (channel ${req.channel}): dev groups go first`;
      }
    }
    reachedChannel ??= wave.groups.find((n) => (groups.get(n)!.image as { channel: string }).channel === req.channel);
  }
  return undefined;
}

/** What the operator's check workflow is given. */
export interface RolloutCheckInput {
  cluster: string;
  channel: string;
  imageId: string;
  /** 1-based */
  wave: number;
  groups: string[];
  /** The wave's nodes on the image. */
  nodes: string[];
}

/** Nodes of a group a wave moves. */
export const waveNodesOf = (wave: Pick<Wave, 'nodes'>, group: Pick<NodeGroupConfig, 'size'>) => Math.min(group.size, nodeCountOf(wave.nodes, group.size));

/** What the gate activity observed of one node and its pods. */
export interface NodeHealthFacts {
  node: string;
  exists: boolean;
  ready: boolean;
  pods: {
    name: string;
    /** Owned by a DaemonSet. */
    daemonSet: boolean;
    phase: string;
    ready: boolean;
    restarts: number;
    /** A container waiting with this reason (CrashLoopBackOff, ImagePullBackOff...). */
    waiting?: string;
    /** ISO */
    createdAt: string;
  }[];
}

const BAD_WAITING = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerError', 'RunContainerError']);

/** The health gates over the repaved nodes: each problem found, in words (none: the gate passes). */
export function judgeHealth(facts: NodeHealthFacts[], gates: RolloutNodeImageRequest['gates'], now: number): string[] {
  const problems: string[] = [];
  for (const n of facts) {
    if (!n.exists) {
      problems.push(`node ${n.node} is gone`);
      continue;
    }
    if (!n.ready) problems.push(`node ${n.node} is NotReady`);
    for (const p of n.pods) {
      if (p.waiting && BAD_WAITING.has(p.waiting)) problems.push(`pod ${p.name} on ${n.node} is ${p.waiting}`);
      else if (p.restarts >= gates.maxRestarts) problems.push(`pod ${p.name} on ${n.node} restarted ${p.restarts} times`);
      if (p.phase === 'Pending' && now - Date.parse(p.createdAt) >= gates.pendingAfter) problems.push(`pod ${p.name} on ${n.node} is Pending`);
      if (p.daemonSet && (p.phase !== 'Running' || !p.ready)) problems.push(`DaemonSet pod ${p.name} on ${n.node} is not running (${p.phase}${p.ready ? '' : ', not ready'})`);
    }
  }
  return [...new Set(problems)];
}

export type RolloutOutcome = 'promoted' | 'rolled-back' | 'aborted';

export type RolloutPhase = 'validating' | 'tagging' | 'repaving' | 'soaking' | 'checking-health' | 'awaiting-approval' | 'rolling-back' | EndPhase;

export interface RolloutProgress extends RunbookProgress<RolloutPhase> {
  channel: string;
  imageId: string;
  /** The wave under way (0-based). */
  wave: number;
  waves: number;
  /** Each group the rollout moved, and the image it had before (what a rollback restores). */
  touched: { group: string; previousImageId: string; wave: number }[];
  outcome?: RolloutOutcome;
  /** Node → image, per group, at the end. */
  summary?: Record<string, Record<string, string>>;
}

export interface RolloutNodeImageResult {
  outcome: 'promoted';
  imageId: string;
  channel: string;
  summary: Record<string, Record<string, string>>;
}
