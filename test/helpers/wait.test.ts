// The pollers the other tests wait with: a check that can never succeed must fail the test at once,
// a transient error must be retried, and a timeout must say what was awaited and what went wrong last.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { eventually } from './stack.js';
import { GiveUp, giveUpIfExited, poll, waitFor, whileRunning } from './wait.js';

/** The error a promise rejects with, and how long it took to settle. */
async function rejection(p: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (error) {
    return { error: error as Error, ms: Date.now() - t0 };
  }
  throw new Error('expected a rejection, got a value');
}

describe('eventually (retries errors)', () => {
  it('fails at once on a GiveUp, well before its timeout, with that error', async () => {
    let calls = 0;
    const { error, ms } = await rejection(
      eventually('something that cannot happen', async () => {
        if (++calls === 3) throw new GiveUp('worker exited with 1');
        return false;
      }, 60_000, 10),
    );
    expect(error).toBeInstanceOf(GiveUp);
    expect(error.message).toBe('worker exited with 1');
    expect(calls).toBe(3);
    expect(ms).toBeLessThan(30_000); // half the timeout: the wait did not run out
  });

  it('retries a transient error and returns the first truthy value', async () => {
    let calls = 0;
    const v = await eventually('a flaky check', async () => {
      calls++;
      if (calls <= 2) throw new Error(`connection refused #${calls}`);
      return calls === 3 ? { calls } : false;
    }, 10_000, 5);
    expect(v).toEqual({ calls: 3 });
    expect(calls).toBe(3);
  });

  it('on timeout names what was awaited and the last error (as its cause)', async () => {
    let calls = 0;
    const { error } = await rejection(
      eventually('the node Ready', async () => {
        throw new Error(`connection refused #${++calls}`);
      }, 100, 10),
    );
    expect(error).not.toBeInstanceOf(GiveUp);
    expect(error.message).toMatch(/^timed out after \d+ ms waiting for the node Ready \(\d+ checks\); last error: Error: connection refused #\d+$/);
    expect(error.message).toContain(`connection refused #${calls}`); // the last one, not the first
    expect((error.cause as Error).message).toBe(`connection refused #${calls}`);
  });

  it('on timeout still names the last error when falsy checks followed it', async () => {
    let calls = 0;
    const { error } = await rejection(
      eventually('the node Ready', async () => {
        if (++calls === 1) throw new Error('503 Service Unavailable');
        return false;
      }, 100, 10),
    );
    expect(error.message).toMatch(/waiting for the node Ready \(\d+ checks\); last error \(\d+ falsy checks after it\): Error: 503 Service Unavailable$/);
  });

  it('on timeout without errors names what was awaited only', async () => {
    const { error } = await rejection(eventually('the node Ready', async () => false, 50, 10));
    expect(error.message).toMatch(/^timed out after \d+ ms waiting for the node Ready \(\d+ checks\)$/);
    expect(error.cause).toBeUndefined();
  });

  it('fails at once when the worker process it waits on exits (giveUpIfExited)', async () => {
    const child = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
    const { error, ms } = await rejection(
      eventually('drain under way', async () => {
        giveUpIfExited(child);
        return false;
      }, 60_000, 20),
    );
    expect(error).toBeInstanceOf(GiveUp);
    expect(error.message).toBe('worker exited with 3');
    expect(ms).toBeLessThan(30_000);
  });
});

describe('giveUpIfExited', () => {
  it('names the exit code, the signal, or a missing process; a running process passes', async () => {
    expect(() => giveUpIfExited(undefined)).toThrow(new GiveUp('worker process is not running'));
    const killed = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const exited = new Promise((r) => killed.once('exit', r));
    expect(() => giveUpIfExited(killed)).not.toThrow();
    killed.kill('SIGKILL');
    await exited;
    expect(() => giveUpIfExited(killed, 'second worker')).toThrow(new GiveUp('second worker exited on SIGKILL'));
  });
});

describe('waitFor (does not retry errors)', () => {
  it('fails at once on any error the check throws', async () => {
    let calls = 0;
    const { error, ms } = await rejection(
      waitFor('a list', () => {
        if (++calls === 2) throw new Error('404 Not Found');
        return false;
      }, 60_000),
    );
    expect(error.message).toBe('404 Not Found');
    expect(calls).toBe(2);
    expect(ms).toBeLessThan(30_000);
  });

  it('returns the first truthy value and on timeout names what was awaited', async () => {
    let calls = 0;
    expect(await waitFor('three calls', () => ++calls >= 3 && calls)).toBe(3);
    await expect(waitFor('never', () => false, 50)).rejects.toThrow(/^timed out after \d+ ms waiting for never \(\d+ checks\)$/);
  });
});

describe('poll', () => {
  it('rethrows a GiveUp subclass at once even when retrying errors', async () => {
    class WorkerGone extends GiveUp {}
    await expect(poll('x', () => Promise.reject(new WorkerGone('gone')), { timeoutMs: 60_000, everyMs: 10, retryErrors: true })).rejects.toBeInstanceOf(WorkerGone);
  });
});

describe('whileRunning', () => {
  it('gives up at once when the process exits before the promise settles', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => process.exit(2), 50)'], { stdio: 'ignore' });
    const { error, ms } = await rejection(whileRunning(new Promise(() => {}), child, 'second worker'));
    expect(error).toBeInstanceOf(GiveUp);
    expect(error.message).toBe('second worker exited with 2');
    expect(ms).toBeLessThan(30_000);
  });

  it('gives up at once for a process that has exited already, and passes a value through while it runs', async () => {
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => gone.once('exit', r));
    await expect(whileRunning(new Promise(() => {}), gone)).rejects.toThrow(new GiveUp('worker exited with 0'));
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      expect(await whileRunning(Promise.resolve('done'), running)).toBe('done');
    } finally {
      running.kill('SIGKILL');
    }
  });
});
