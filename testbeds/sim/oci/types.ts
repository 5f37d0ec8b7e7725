// Wire shapes of the OCI resources the simulated fleet serves (JSON, camelCase, as the OCI SDK models them).
import type { LatencyFault } from '../latency.js';

export type InstanceLifecycleState = 'PROVISIONING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'STARTING' | 'TERMINATING' | 'TERMINATED';

export interface InstanceShapeConfig {
  ocpus: number;
  memoryInGBs: number;
  vcpus: number;
  processorDescription: string;
  networkingBandwidthInGbps: number;
  maxVnicAttachments: number;
  gpus: number;
  localDisks: number;
}

export interface OciInstance {
  id: string;
  compartmentId: string;
  availabilityDomain: string;
  faultDomain: string;
  displayName: string;
  region: string;
  shape: string;
  shapeConfig: InstanceShapeConfig;
  imageId: string;
  sourceDetails: { sourceType: 'image'; imageId: string; bootVolumeSizeInGBs?: number };
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
  metadata: Record<string, string>;
  extendedMetadata: Record<string, unknown>;
  launchMode: 'PARAVIRTUALIZED';
  lifecycleState: InstanceLifecycleState;
  timeCreated: string;
}

export type ImageLifecycleState = 'PROVISIONING' | 'IMPORTING' | 'AVAILABLE' | 'EXPORTING' | 'DISABLED' | 'DELETED';

export interface OciImage {
  id: string;
  compartmentId: string;
  displayName: string;
  operatingSystem: string;
  operatingSystemVersion: string;
  createImageAllowed: boolean;
  launchMode: 'PARAVIRTUALIZED';
  lifecycleState: ImageLifecycleState;
  sizeInMBs: number;
  billableSizeInGBs: number;
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
  timeCreated: string;
}

export interface AvailabilityDomain {
  id: string;
  name: string;
  compartmentId: string;
}

export interface FaultDomain {
  id: string;
  name: string;
  compartmentId: string;
  availabilityDomain: string;
}

/** Faults on the OCI side; mutable at runtime (the control API patches this object in place). */
export interface OciFaults extends LatencyFault {
  /** Probability (0..1) that any authenticated OCI call fails with errorStatus. */
  errorRate: number;
  errorStatus: 429 | 500;
  /** The next N launches are refused with 500 InternalError "Out of host capacity.". */
  outOfCapacity: number;
  /** The next N launched instances register a Node that never becomes Ready. */
  neverReady: number;
  /** The next N launches create the instance but answer 500 InternalServerError (the response is "lost"): a retry with the same opc-retry-token must find it. */
  lostLaunchResponses: number;
  /** The next N secret creates and updates happen but answer 500 (the response is "lost"): a retry must not write twice. */
  lostSecretWriteResponses: number;
  /** Launches create the instance at once but answer this much later (a slow response: an abort can land in between). */
  launchResponseDelayMs: number;
  /** PROVISIONING → RUNNING (and Node registration) delay for launched instances. */
  bootDelayMs: number;
}

export class OciApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
