// What workflows report to the worker's metrics (src/workers/metrics.ts) and audit stream (src/workers/audit.ts), out of the sandbox. Sink calls are not
// commands: they leave the history untouched, and are not made again while a run replays.
import { proxySinks, type Sinks } from '@temporalio/workflow';

export interface ItinerantSinks extends Sinks {
  metrics: {
    runbookStarted(labels: { cluster: string }): void;
    runbookEnded(labels: { cluster: string; phase: 'done' | 'refused' | 'failed' | 'aborted' }): void;
    laneBreaker(labels: { cluster: string; group: string; open: boolean }): void;
  };
  /** An operator's action on a run (the worker's audit stream): who, when the client said. */
  audit: {
    operator(action: { action: 'pause' | 'resume' | 'abort' | 'answer'; by?: string; detail?: string }): void;
  };
}

export const { metrics, audit } = proxySinks<ItinerantSinks>();
