import { activityInfo, ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import type { OciError } from 'oci-common';
import { models, requests } from 'oci-core';
import type { ImageRolloutActivities, InstanceFacts, LaunchReplacementRequest, OciActivities } from '../core/activity-contracts.js';
import {
  METADATA_NODE_LABELS,
  METADATA_NODE_TAINTS,
  TAG_CLUSTER,
  TAG_IMAGE_CHANNEL,
  TAG_IMAGE_PREVIOUS_CHANNEL,
  TAG_IMAGE_ROLLOUT,
  TAG_NODE_GROUP,
  TAG_REPLACES,
} from '../core/labels.js';
import type { ClientRegistry } from './clients.js';
import { isNoAnswer, statusOf } from './oci-errors.js';

const POLL_MS = 1000;
const GONE = new Set<string>([models.Instance.LifecycleState.Terminating, models.Instance.LifecycleState.Terminated]);

/** Client errors (bad request, auth, not found) do not heal by retrying; throttling, 5xx and no answer do. */
export function rethrow(e: unknown, what: string): never {
  if (isNoAnswer(e)) {
    throw ApplicationFailure.retryable(`${what}: no answer from OCI (${String(e.requestEndpoint)}): ${String(e.message)}`, 'OciNoAnswer');
  }
  const code = statusOf(e);
  if (code !== undefined && code >= 400 && code < 500 && code !== 409 && code !== 429) {
    const err = e as OciError;
    throw ApplicationFailure.nonRetryable(`${what}: OCI answered ${code} ${err.serviceCode}: ${err.message}`, 'OciApiRefused');
  }
  throw e;
}

function facts(i: models.Instance): InstanceFacts {
  return {
    id: i.id,
    displayName: i.displayName ?? i.id,
    lifecycleState: i.lifecycleState,
    compartmentId: i.compartmentId,
    availabilityDomain: i.availabilityDomain,
    faultDomain: i.faultDomain,
    shape: i.shape,
    shapeConfig: i.shapeConfig ? { ocpus: i.shapeConfig.ocpus, memoryInGBs: i.shapeConfig.memoryInGBs } : undefined,
    imageId: i.imageId,
    freeformTags: i.freeformTags ?? {},
  };
}

export function ociActivities({ clients }: { clients: ClientRegistry }) {
  const compute = (cluster: string) => clients.for(cluster).compute;

  async function getInstance(cluster: string, instanceId: string): Promise<models.Instance | undefined> {
    try {
      return (await compute(cluster).getInstance({ instanceId })).instance;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      rethrow(e, `get instance ${instanceId}`);
    }
  }

  /** Live instances a launch under this display name and `replaces` tag created (an earlier attempt, a lost answer). */
  async function launchedAs(req: Pick<LaunchReplacementRequest, 'cluster' | 'compartmentId' | 'displayName' | 'replaces'>): Promise<models.Instance[]> {
    const found = await compute(req.cluster).listInstances({ compartmentId: req.compartmentId, displayName: req.displayName });
    return found.items.filter((i) => !GONE.has(i.lifecycleState) && i.freeformTags?.[TAG_REPLACES] === req.replaces);
  }

  /** Ask OCI to terminate an instance; false when it is already gone (404). */
  async function terminate(cluster: string, instanceId: string): Promise<boolean> {
    try {
      await compute(cluster).terminateInstance({ instanceId, preserveBootVolume: false });
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      rethrow(e, `terminate instance ${instanceId}`);
    }
  }

  return {
    async describeInstance({ cluster, instanceId }: { cluster: string; instanceId: string }) {
      const i = await getInstance(cluster, instanceId);
      return i ? facts(i) : undefined;
    },

    async resolveImage({ cluster, compartmentId, image }: { cluster: string; compartmentId: string; image: { channel: string } | { id: string } }) {
      if ('id' in image) {
        try {
          const { image: found } = await compute(cluster).getImage({ imageId: image.id });
          return { imageId: found.id, displayName: found.displayName ?? found.id };
        } catch (e) {
          if (statusOf(e) === 404) throw ApplicationFailure.nonRetryable(`image ${image.id} does not exist`, 'ImageNotFound');
          rethrow(e, `get image ${image.id}`);
        }
      }
      // Every page: the channel is a tag, not a filter of ListImages, so its images may be past the first one.
      const onChannel: models.Image[] = [];
      try {
        for await (const i of compute(cluster).listImagesRecordIterator({
          compartmentId,
          lifecycleState: models.Image.LifecycleState.Available,
          sortBy: requests.ListImagesRequest.SortBy.Timecreated,
          sortOrder: requests.ListImagesRequest.SortOrder.Desc,
        })) {
          if (i.freeformTags?.[TAG_IMAGE_CHANNEL] === image.channel) onChannel.push(i);
        }
      } catch (e) {
        rethrow(e, `list images in ${compartmentId}`);
      }
      const newest = onChannel.sort((a, b) => new Date(b.timeCreated).getTime() - new Date(a.timeCreated).getTime())[0];
      if (!newest) throw ApplicationFailure.nonRetryable(`no available image on channel ${image.channel} in ${compartmentId}`, 'ImageNotFound');
      return { imageId: newest.id, displayName: newest.displayName ?? newest.id };
    },

    /** Idempotent twice over: an earlier attempt's instance is found by name and tag, and the retry token dedupes in OCI. */
    async launchReplacement(req: LaunchReplacementRequest) {
      if (!req.subnetId) {
        throw ApplicationFailure.nonRetryable(
          `launch ${req.displayName}: node group ${req.nodeGroup} has no subnet in ${req.availabilityDomain} (its dedicated subnets are created by nodeGroupManager create)`,
          'NoSubnet',
        );
      }
      try {
        const [existing] = await launchedAs(req);
        if (existing) return { instanceId: existing.id, created: false };
        const { instance } = await compute(req.cluster).launchInstance({
          opcRetryToken: req.retryToken,
          launchInstanceDetails: {
            compartmentId: req.compartmentId,
            availabilityDomain: req.availabilityDomain,
            faultDomain: req.faultDomain,
            displayName: req.displayName,
            shape: req.shape,
            shapeConfig: req.shapeConfig,
            sourceDetails: { sourceType: 'image', imageId: req.imageId } as models.InstanceSourceViaImageDetails,
            createVnicDetails: { subnetId: req.subnetId, hostnameLabel: req.displayName },
            metadata: {
              [METADATA_NODE_LABELS]: JSON.stringify(req.nodeLabels),
              [METADATA_NODE_TAINTS]: JSON.stringify(req.nodeTaints),
            },
            freeformTags: { [TAG_CLUSTER]: req.cluster, [TAG_NODE_GROUP]: req.nodeGroup, [TAG_REPLACES]: req.replaces },
          },
        });
        return { instanceId: instance.id, created: true };
      } catch (e) {
        if (statusOf(e) === 500 && /capacity/i.test((e as Error).message)) {
          // Out of host capacity is worth retrying (capacity frees up), but say what it is.
          throw ApplicationFailure.retryable(`launch of ${req.displayName} in ${req.availabilityDomain}: out of host capacity`, 'OutOfCapacity');
        }
        rethrow(e, `launch ${req.displayName}`);
      }
    },

    async waitForInstanceRunning({ cluster, instanceId, deadline }: { cluster: string; instanceId: string; deadline: number }) {
      for (;;) {
        const i = await getInstance(cluster, instanceId);
        const state = i?.lifecycleState ?? 'NOT_FOUND';
        if (state === models.Instance.LifecycleState.Running) return { instanceId };
        if (!i || GONE.has(state)) {
          throw ApplicationFailure.nonRetryable(`instance ${instanceId} is ${state} instead of booting`, 'ReplacementNotReady');
        }
        heartbeat({ state, attempt: activityInfo().attempt });
        if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`instance ${instanceId} still ${state} at the deadline`, 'ReplacementNotReady');
        await sleep(POLL_MS);
      }
    },

    async terminateInstance({ cluster, instanceId }: { cluster: string; instanceId: string }) {
      const i = await getInstance(cluster, instanceId);
      if (!i) return { lifecycleState: 'NOT_FOUND' };
      if (GONE.has(i.lifecycleState)) return { lifecycleState: i.lifecycleState };
      return { lifecycleState: (await terminate(cluster, instanceId)) ? models.Instance.LifecycleState.Terminating : 'NOT_FOUND' };
    },

    /** UpdateImage replaces the whole freeformTags map: read, change our keys, write back. */
    async tagImageChannel({ cluster, imageId, channel, rollout, on }: Parameters<ImageRolloutActivities['tagImageChannel']>[0]) {
      let tags: Record<string, string>;
      try {
        tags = { ...((await compute(cluster).getImage({ imageId })).image.freeformTags ?? {}) };
      } catch (e) {
        if (statusOf(e) === 404) throw ApplicationFailure.nonRetryable(`image ${imageId} does not exist`, 'ImageNotFound');
        rethrow(e, `get image ${imageId}`);
      }
      const next = { ...tags };
      if (on) {
        if (tags[TAG_IMAGE_CHANNEL] === channel && tags[TAG_IMAGE_ROLLOUT] === rollout) return { changed: false };
        if (tags[TAG_IMAGE_CHANNEL] !== undefined && tags[TAG_IMAGE_CHANNEL] !== channel) next[TAG_IMAGE_PREVIOUS_CHANNEL] = tags[TAG_IMAGE_CHANNEL];
        next[TAG_IMAGE_CHANNEL] = channel;
        next[TAG_IMAGE_ROLLOUT] = rollout;
      } else {
        if (tags[TAG_IMAGE_ROLLOUT] !== rollout) return { changed: false }; // not ours (or taken back already)
        delete next[TAG_IMAGE_CHANNEL];
        if (tags[TAG_IMAGE_PREVIOUS_CHANNEL] !== undefined) next[TAG_IMAGE_CHANNEL] = tags[TAG_IMAGE_PREVIOUS_CHANNEL];
        delete next[TAG_IMAGE_PREVIOUS_CHANNEL];
        delete next[TAG_IMAGE_ROLLOUT];
      }
      try {
        await compute(cluster).updateImage({ imageId, updateImageDetails: { freeformTags: next } });
      } catch (e) {
        rethrow(e, `tag image ${imageId}`);
      }
      return { changed: true };
    },

    async terminateLaunched(req: Pick<LaunchReplacementRequest, 'cluster' | 'compartmentId' | 'displayName' | 'replaces'>) {
      const launched = await launchedAs(req);
      for (const i of launched) await terminate(req.cluster, i.id);
      return { terminated: launched.map((i) => i.id) };
    },
  } satisfies OciActivities & Pick<ImageRolloutActivities, 'tagImageChannel'>;
}
