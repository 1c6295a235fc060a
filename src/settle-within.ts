import { formatDuration } from './duration.ts';

/** A step that did not finish in time (a module's setup or top-level code); what it left running is abandoned. */
export class TimeoutExceededError extends Error {
  override name = 'TimeoutExceededError';
}

/**
 * `promise`, or a TimeoutExceededError once `ms` have passed: code we do not control (a module's setup, its
 * top-level await) must not hang startup or reload forever (issue 11). The promise itself cannot be cancelled.
 */
export async function settleWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutExceededError(`${what} did not finish within ${formatDuration(ms)}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
