// Every activity log line names its runbook and target beside the SDK's workflow ID and run ID (pino JSON, src/workers/logger.ts),
// and each activity attempt ends with one: completed (debug) or failed (warn), with its duration.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** What an activity acts on, from its request: the node, the member, the instance or the node group (none for cluster-wide reads). */
export function targetOf(args: readonly unknown[]): string | undefined {
  const req = args[0] as Record<string, unknown> | undefined;
  if (!req || typeof req !== 'object') return undefined;
  const target = ['node', 'member', 'replaces', 'instanceId', 'nodeGroup', 'group', 'statefulSet'].map((k) => req[k]).find((v) => typeof v === 'string');
  return target as string | undefined;
}

export const activityLogAttributes: ActivityInterceptorsFactory = (ctx) => {
  let target: string | undefined;
  let cluster: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        target = targetOf(input.args);
        const c = (input.args[0] as { cluster?: unknown } | undefined)?.cluster;
        if (typeof c === 'string') cluster = c;
        const started = Date.now();
        try {
          const result = await next(input);
          ctx.log.debug('activity completed', { durationMs: Date.now() - started });
          return result;
        } catch (e) {
          ctx.log.warn('activity failed', { durationMs: Date.now() - started, error: (e as Error).message });
          throw e;
        }
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        // The task token completes the activity from outside: not for logs.
        const { taskToken: _, ...rest } = next(input);
        return { ...rest, runbook: ctx.info.workflowType, ...(cluster ? { cluster } : {}), ...(target ? { target } : {}) };
      },
    },
  };
};
