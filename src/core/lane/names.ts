// Names of the lane's signals, update and query, and the defaults of its timing.


export const MINUTE = 60_000;
export const HOUR = 3_600_000;

export const DEFAULT_SWEEP_INTERVAL_MS = 10 * MINUTE;
export const DEFAULT_UNHEALTHY_AFTER_MS = 5 * MINUTE;

/** Names of the lane's signals, update and query (shared by the workflow and by clients that only need the names). */
/** Sweep the group now (what the Schedule sends every sweepInterval). */
export const LANE_SIGNAL_SWEEP_NOW = 'sweepNow';
/** sweepNow's name before it said what it does; lanes still answer it. */
export const LEGACY_LANE_SIGNAL_SWEEP_NOW = 'drainNow';
export const LANE_SIGNAL_REPORT_UNHEALTHY = 'reportUnhealthy';
export const LANE_SIGNAL_RESET_BREAKER = 'resetCircuitBreaker';
export const LANE_UPDATE_SET_PACE = 'setPace';
export const LANE_QUERY_STATE = 'state';
/** Another runbook (the node group manager) holds the lane: no new repaves until it releases (or the hold expires). */
export const LANE_SIGNAL_HOLD = 'hold';
export const LANE_SIGNAL_RELEASE = 'release';
/** Pin the image the group's nodes should run (a rollout), or go back to the group's configured image. */
export const LANE_SIGNAL_SET_DESIRED_IMAGE = 'setDesiredImage';

/** A rotation requires every node to hold a keyring version (KeyringRequest), or releases that requirement. */
export const LANE_SIGNAL_REQUIRE_KEYRING = 'requireKeyring';

/** setDesiredImage's argument: an image to pin, or `{ by }` alone to resolve the group's configured image again. */
export interface DesiredImageRequest {
  /** Who asks (a workflow ID): shown, and kept with the image. */
  by: string;
  imageId?: string;
  displayName?: string;
  /** Move at most this many nodes to the image (a partial wave). */
  nodes?: number;
  /** Which nodes on another image are drifted; default every one (see ImageDrift). */
  drift?: ImageDrift;
}

/**
 * Which nodes on another image than the desired one are drifted: `all`; `none` (the image is only what
 * replacements boot from); or only those on one image (`from`: a rollback moves the nodes of the image it
 * takes back, and only those).
 */
export type ImageDrift = 'all' | 'none' | { from: string };

export interface LaneHold {
  /** Workflow ID of the holder. */
  holder: string;
  reason: string;
  /** ISO; a holder that died does not hold the lane forever. */
  until: string;
}
