import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  /** How long the thing may take before the test fails; generous, since it only matters when it never happens. */
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Gives up at once with the signal's reason when it aborts (say, the process being waited for has exited). */
  readonly signal?: AbortSignal;
}

/**
 * Runs `check` until it returns without throwing and returns its result; past the deadline, throws its last error.
 * Tests wait with this instead of sleeping: they go on as soon as the thing has happened, however slow the machine.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25, signal }: PollOptions = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await check();
    } catch (error) {
      signal?.throwIfAborted();
      if (performance.now() >= deadline) {
        if (error instanceof Error) error.message = `still failing after ${timeoutMs} ms: ${error.message}`;
        throw error;
      }
    }
    await delay(intervalMs);
  }
}
