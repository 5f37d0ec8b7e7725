// Runbooks the CLI can start: a CLI name mapped to a workflow type, the workflow's own input parser
// (so bad input is refused before anything is sent), the workflow ID derived from the target, and its signals.
import { parseDecommissionMemberInput } from '../core/decommission.js';
import { decommissionWorkflowId, nodeGroupManagerWorkflowId, repaveNodeWorkflowId } from '../core/ids.js';
import { parseNodeGroupManagerInput } from '../core/node-groups.js';
import type { ParseResult } from '../core/input.js';
import { parseRepaveNodeInput } from '../core/repave.js';
import { parseRotateKeysInput, rotateKeysWorkflowId } from '../core/rotation.js';
import { RUNBOOK_SIGNAL_ABORT, RUNBOOK_SIGNAL_PAUSE, RUNBOOK_SIGNAL_RESUME } from '../core/runbook.js';

export interface Runbook<I> {
  /** CLI name: `itinerant run <name>`. */
  name: string;
  workflowType: string;
  summary: string;
  /** The same parser the workflow applies to its input. */
  parse(input: unknown): ParseResult<I>;
  workflowId(input: I): string;
  /** Values for the ItinerantCluster and ItinerantTarget search attributes. */
  cluster(input: I): string;
  target(input: I): string;
  /** Signals the workflow accepts; `reasonRequired` ones take a --reason argument. */
  signals: Record<string, { reasonRequired?: boolean; description: string }>;
  /** Refusal when a run on the same target is still open, e.g. "node X is already being repaved". */
  busy(target: string): string;
}

/** What `itinerant run` needs to start a workflow, after the input was accepted. */
export interface PreparedStart {
  runbook: AnyRunbook;
  workflowId: string;
  cluster: string;
  target: string;
}

export interface AnyRunbook extends Omit<Runbook<unknown>, 'parse' | 'workflowId' | 'cluster' | 'target'> {
  prepare(input: unknown): ParseResult<PreparedStart>;
}

function defineRunbook<I>(r: Runbook<I>): AnyRunbook {
  const { parse, workflowId, cluster, target, ...rest } = r;
  const self: AnyRunbook = {
    ...rest,
    prepare(input) {
      const parsed = parse(input);
      if (!parsed.ok) return parsed;
      const v = parsed.value;
      return { ok: true, value: { runbook: self, workflowId: workflowId(v), cluster: cluster(v), target: target(v) } };
    },
  };
  return self;
}

/** The runbook frame's signals: every runbook answers them (src/core/runbook.ts). */
const operatorSignals = {
  [RUNBOOK_SIGNAL_PAUSE]: { description: 'hold at the next step boundary' },
  [RUNBOOK_SIGNAL_RESUME]: { description: 'continue after pause' },
  [RUNBOOK_SIGNAL_ABORT]: { reasonRequired: true, description: 'stop, undoing what can be undone' },
};

export const RUNBOOKS: Record<string, AnyRunbook> = {
  'repave-node': defineRunbook({
    name: 'repave-node',
    workflowType: 'repaveNode',
    summary: 'replace one node n+1: launch, wait Ready, cordon, drain, delete, terminate',
    parse: parseRepaveNodeInput,
    workflowId: (i) => repaveNodeWorkflowId(i.cluster, i.node),
    cluster: (i) => i.cluster,
    target: (i) => i.node,
    signals: operatorSignals,
    busy: (node) => `node ${node} is already being repaved`,
  }),
  'node-group': defineRunbook({
    name: 'node-group',
    workflowType: 'nodeGroupManager',
    summary: 'create, scale or delete a node group (holds its repaver lane meanwhile)',
    parse: parseNodeGroupManagerInput,
    workflowId: (i) => nodeGroupManagerWorkflowId(i.cluster, i.group),
    cluster: (i) => i.cluster,
    target: (i) => i.group,
    signals: operatorSignals,
    busy: (group) => `node group ${group} is already being changed`,
  }),
  'decommission-member': defineRunbook({
    name: 'decommission-member',
    workflowType: 'decommissionMember',
    summary: 'remove the highest-ordinal member of a stateful service (nodetool decommission), then scale its StatefulSet down',
    parse: parseDecommissionMemberInput,
    workflowId: (i) => decommissionWorkflowId(i.cluster, i.namespace, i.statefulSet),
    cluster: (i) => i.cluster,
    target: (i) => `${i.namespace}/${i.member}`,
    signals: {
      ...operatorSignals,
      keepWaiting: { description: 'a stuck decommission: keep waiting for progress (as `itinerant answer <id> keepWaiting`)' },
    },
    busy: (member) => `a decommission of this StatefulSet is already running (asked for ${member})`,
  }),
  'rotate-keys': defineRunbook({
    name: 'rotate-keys',
    workflowType: 'rotateKeys',
    summary: 'rotate one keyring (client-ca, service-account, secret-encryption): introduce, repave onto it, promote, withdraw the old key',
    parse: parseRotateKeysInput,
    workflowId: (i) => rotateKeysWorkflowId(i.cluster, i.purpose),
    cluster: (i) => i.cluster,
    target: (i) => i.purpose,
    signals: operatorSignals,
    busy: (purpose) => `a rotation of the ${purpose} keyring is already running`,
  }),
};

export function findRunbook(name: string): AnyRunbook | undefined {
  return Object.hasOwn(RUNBOOKS, name) ? RUNBOOKS[name] : undefined;
}

/** By workflow type (what describe() reports). */
export function runbookForWorkflowType(type: string): AnyRunbook | undefined {
  return Object.values(RUNBOOKS).find((r) => r.workflowType === type);
}

/** Every signal name some runbook accepts (checked before contacting the server). */
export function knownSignals(): string[] {
  return [...new Set(Object.values(RUNBOOKS).flatMap((r) => Object.keys(r.signals)))];
}

export function signalSpec(name: string): { reasonRequired?: boolean } | undefined {
  for (const r of Object.values(RUNBOOKS)) {
    const s = Object.hasOwn(r.signals, name) ? r.signals[name] : undefined;
    if (s) return s;
  }
  return undefined;
}
