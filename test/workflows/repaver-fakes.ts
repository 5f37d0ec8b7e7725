// Test doubles for the repaver lane tests: a node group in memory and the activities over it.
import { activityInfo, ApplicationFailure, Context } from '@temporalio/activity';
import type { ConfigActivities, LaneSweepActivities, NodeGroupActivities, OciActivities } from '../../src/core/activity-contracts.js';
import { laneSweepActivities } from '../../src/activities/repave-steps.js';
import type { NodeGroupConfig } from '../../src/core/config.js';
import type { KeyPurpose } from '../../src/core/keyring.js';
import type { NodeGroupObservation, ObservedNode } from '../../src/core/lane/index.js';
import { nodeGroup, THREE_PLACEMENTS } from '../helpers/node-group.js';
import { FAKE_END_NOW, type FakeRepaveActivities } from './repaver-stub-workflows.js';

const M = 60_000;

export interface FakeNode {
  name: string;
  createdAt: number;
  ready: boolean;
  readySince: number;
  fd: string;
  owner?: string;
  /** The machine: a node that comes back under the same name (a reused IP) is on another instance. */
  instanceId: string;
  imageId: string;
  /** The keyring version it holds per purpose. */
  keyrings?: Partial<Record<KeyPurpose, number>>;
}

export const FAKE_CHANNEL_IMAGE = 'ocid1.image.oc1..channel-1';

/** A node group in memory whose clock is Temporal's (time-skipped) clock. */
export class FakeGroup {
  readonly nodes = new Map<string, FakeNode>();
  inFlight = 0;
  maxInFlight = 0;
  readonly repaves: { node: string; at: number; ageMs: number }[] = [];
  readonly failing = new Set<string>();
  durationMs = 30 * M;
  /**
   * Lists like the real activity when a repave ends while it lists: it reads the nodes, ends a repave in flight,
   * and answers the nodes as read, each owner left in only if still in flight (the liveness check comes after the
   * read). Counts the lists it did so; `then` runs before it answers, given the replacement that joined meanwhile.
   */
  listsAcrossAnEnd: { enabled: boolean; done: number; then?: (replacement: string) => Promise<void> } = { enabled: false, done: 0 };
  private lastAdded = '';
  private finishes = 0;
  private seq = 0;
  private machines = 0;
  /** The newest image on the group's channel (what resolveImage answers). */
  channelImage = FAKE_CHANNEL_IMAGE;
  /** The image each repave's replacement booted from, by the node it replaced. */
  readonly bootedFrom = new Map<string, string | undefined>();
  /** The keyrings a node booted now holds (a replacement, or a node added without its own). */
  bootKeyrings: Partial<Record<KeyPurpose, number>> | undefined;

  constructor(public group: NodeGroupConfig) {}

  add(name: string, createdAt: number, fd: string, imageId = this.channelImage, keyrings = this.bootKeyrings) {
    this.lastAdded = name;
    this.nodes.set(name, { name, createdAt, ready: true, readySince: createdAt, fd, instanceId: `ocid1.instance.oc1..fake${++this.machines}`, imageId, ...(keyrings ? { keyrings } : {}) });
  }

  /** The node's machine is gone, and a new one registers under the same name (its IP was reused). */
  reuseName(name: string, createdAt: number) {
    this.add(name, createdAt, this.nodes.get(name)!.fd);
  }

  setReady(name: string, ready: boolean, at: number) {
    const node = this.nodes.get(name)!;
    node.ready = ready;
    node.readySince = at;
  }

  private observe(cluster: string, nodeGroup: string, nodes: FakeNode[], at: number): NodeGroupObservation {
    return {
      cluster,
      nodeGroup,
      observedAt: new Date(at).toISOString(),
      nodes: nodes.map(
        (x): ObservedNode => ({
          name: x.name,
          createdAt: new Date(x.createdAt).toISOString(),
          ready: x.ready,
          conditions: [{ type: 'Ready', status: x.ready ? 'True' : 'False', since: new Date(x.readySince).toISOString() }],
          unschedulable: false,
          faultDomain: x.fd,
          instanceId: x.instanceId,
          imageId: x.imageId,
          ...(x.keyrings ? { keyrings: x.keyrings } : {}),
          ...(x.owner ? { owner: x.owner } : {}),
        }),
      ),
    };
  }

  activities(): NodeGroupActivities & ConfigActivities & LaneSweepActivities & Pick<OciActivities, 'resolveImage'> & FakeRepaveActivities {
    const acts = this.readsAndRepaves();
    return { ...acts, ...laneSweepActivities(acts) }; // the sweep's one read, as the worker composes it
  }

  private readsAndRepaves(): NodeGroupActivities & ConfigActivities & Pick<OciActivities, 'resolveImage'> & FakeRepaveActivities {
    const now = () => activityInfo().currentAttemptScheduledTimestampMs;
    const unused = async (): Promise<never> => {
      throw ApplicationFailure.nonRetryable('not used in this test');
    };
    return {
      describeNodeGroup: async () => this.group,
      describeClusterCompartment: async () => ({ compartmentId: 'ocid1.compartment.oc1..fake' }),
      resolveImage: async ({ image }) => {
        const imageId = 'id' in image ? image.id : this.channelImage;
        return { imageId, displayName: imageId.replace('ocid1.image.oc1..', '') };
      },
      signalRepaverLane: unused,
      holdRepaverLane: unused,
      releaseRepaverLane: unused,
      waitForRepaverLaneIdle: unused,
      listNodeGroupNodes: async ({ cluster, nodeGroup }) => {
        const read = [...this.nodes.values()].map((x) => ({ ...x }));
        const owner = read.find((x) => x.owner)?.owner;
        if (this.listsAcrossAnEnd.enabled && owner) {
          const finishes = this.finishes;
          await Context.current().client.workflow.getHandle(owner).signal(FAKE_END_NOW);
          for (let i = 0; i < 200 && this.finishes === finishes; i++) await new Promise((r) => setTimeout(r, 50));
          if (this.finishes === finishes) throw new Error('no repave ended while listing within 10 s');
          for (const x of read) if (x.owner && !this.nodes.get(x.name)?.owner) delete x.owner;
          this.listsAcrossAnEnd.done++;
          await this.listsAcrossAnEnd.then?.(this.lastAdded);
        }
        return this.observe(cluster, nodeGroup, read, now());
      },
      fakeRepaveBegin: async ({ node, workflowId }) => {
        const x = this.nodes.get(node);
        if (!x) throw ApplicationFailure.nonRetryable(`node ${node} does not exist`);
        if (x.owner) throw ApplicationFailure.nonRetryable(`node ${node} already claimed by ${x.owner}`);
        x.owner = workflowId;
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        this.repaves.push({ node, at: now(), ageMs: now() - x.createdAt });
        return { durationMs: this.durationMs, ...(this.failing.has(node) ? { fail: `replacement for ${node} never became Ready` } : {}) };
      },
      fakeRepaveFinish: async ({ node, failed, imageId }) => {
        this.inFlight--;
        this.finishes++;
        const x = this.nodes.get(node)!;
        delete x.owner;
        if (failed) return { replacement: '' };
        this.nodes.delete(node);
        const replacement = `${this.group.name}-r${++this.seq}`;
        this.bootedFrom.set(node, imageId);
        this.add(replacement, now(), x.fd, imageId ?? this.channelImage);
        return { replacement };
      },
    };
  }
}

export const makeGroup = (over: Record<string, unknown>) =>
  nodeGroup({ placement: THREE_PLACEMENTS, maxAge: '30d', maxSurge: 1, maxUnavailable: 1, maxUnhealthy: 1, sweepInterval: '10m', unhealthyAfter: '5m', ...over });

