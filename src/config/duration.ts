import { z } from 'zod';

// Prometheus' duration format: units from largest to smallest, each at most once (`1h30m`, `500ms`).
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Milliseconds in a Prometheus-style duration, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  return match.slice(1).reduce((total, n, i) => total + (n ? Number(n) * UNIT_MS[i]! : 0), 0);
}

/** A config field holding a positive duration such as `10s`; parsed to milliseconds. */
export const durationMs = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid duration "${text}" (expected a positive Prometheus duration such as 500ms, 10s or 1m30s)`,
    });
    return z.NEVER;
  }
  return ms;
});
