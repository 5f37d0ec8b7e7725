import type { ChildProcess } from 'node:child_process';

/**
 * Thrown by a polled check when waiting longer cannot help (the worker process it waits on has exited, ...).
 * The pollers rethrow it at once instead of retrying until their timeout.
 */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

export interface PollOptions {
  timeoutMs: number;
  everyMs: number;
  /** Retry a check that throws (anything but GiveUp), remembering the last error for the timeout message; otherwise the error fails the wait at once. */
  retryErrors: boolean;
}

/**
 * Poll `fn` until it returns something truthy (returned). A GiveUp fails at once; other errors fail at once too
 * unless `retryErrors`, in which case the last of them is named in the timeout error (and is its `cause`).
 */
export async function poll<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, opts: PollOptions): Promise<T> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let checks = 0;
  let lastError: { error: unknown; check: number } | undefined;
  for (;;) {
    checks++;
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof GiveUp || !opts.retryErrors) throw e;
      lastError = { error: e, check: checks };
    }
    if (Date.now() > deadline) {
      let message = `timed out after ${Date.now() - started} ms waiting for ${what} (${checks} checks)`;
      if (lastError) {
        const later = checks - lastError.check;
        message += `; last error${later ? ` (${later} falsy checks after it)` : ''}: ${errorText(lastError.error)}`;
      }
      throw new Error(message, lastError ? { cause: lastError.error } : undefined);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs));
  }
}

const errorText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Poll `fn` every 25 ms until it returns something truthy (returned), or fail after `timeoutMs` naming `what`. An error thrown by `fn` fails at once. */
export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  return poll(what, fn, { timeoutMs, everyMs: 25, retryErrors: false });
}

/** For a polled check: throw GiveUp when the process has exited (or was never started), so that the wait fails now, naming how it ended. */
export function giveUpIfExited(child: ChildProcess | undefined, what = 'worker'): void {
  if (!child) throw new GiveUp(`${what} process is not running`);
  if (child.exitCode !== null) throw new GiveUp(`${what} exited with ${child.exitCode}`);
  if (child.signalCode !== null) throw new GiveUp(`${what} exited on ${child.signalCode}`);
}

/**
 * `p`, unless the process exits first: then a GiveUp naming how it ended (a workflow result awaited while only
 * this worker can make progress would otherwise wait until the test's timeout).
 */
export function whileRunning<T>(p: Promise<T>, child: ChildProcess, what = 'worker'): Promise<T> {
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () => {
      try {
        giveUpIfExited(child, what);
      } catch (e) {
        reject(e);
      }
    };
    child.once('exit', onExit);
    onExit();
  });
  return Promise.race([p, exited]).finally(() => child.off('exit', onExit!));
}
