import { z } from 'zod';

// Prometheus' duration format: units from largest to smallest, each at most once (`1h30m`, `500ms`).
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Longest timeout a config field or OTEL_* variable may set: a collection, push or setup that takes longer has failed. */
export const MAX_TIMEOUT_MS = 10 * 60_000;
/** Longest interval (poll, push, reuse): far below the ~24.8 days where Node clamps a timer to 1 ms (issue 11). */
export const MAX_INTERVAL_MS = 24 * 3_600_000;
/** Longest staleAfter: it is only compared with a poll's age, and defaults to up to two intervals plus a timeout. */
export const MAX_STALE_AFTER_MS = 7 * 24 * 3_600_000;

/** Milliseconds in a Prometheus-style duration, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  return match.slice(1).reduce((total, n, i) => total + (n ? Number(n) * UNIT_MS[i]! : 0), 0);
}

/** Formats milliseconds the way the config file writes them (`10m`, `1d`, `500ms`). */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let text = '';
  for (const [unit, size] of units) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text || '0s';
}

/** A config field holding a positive duration of at most `maxMs`, such as `10s`; parsed to milliseconds. */
export function durationAtMost(maxMs: number) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid duration "${text}" (expected a positive Prometheus duration such as 500ms, 10s or 1m30s)`,
      });
      return z.NEVER;
    }
    if (ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `${text} is longer than the maximum of ${formatDuration(maxMs)}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** An interval-like duration: at most MAX_INTERVAL_MS. */
export const durationMs = durationAtMost(MAX_INTERVAL_MS);
/** A timeout: at most MAX_TIMEOUT_MS. */
export const timeoutMs = durationAtMost(MAX_TIMEOUT_MS);
