import { z } from 'zod';

// A size such as `4MiB`, `512KiB` or a number of bytes. Binary units only: `MB` would be ambiguous.
const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/;
const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;

/** The largest size cap a source accepts: what is read is held in memory, then parsed by a bounded worker. */
const MAX_SIZE_CAP = 8 * 1024 ** 2;

/** A config field holding a size cap (`4MiB`, or bytes); parsed to bytes, between 1 byte and MAX_SIZE_CAP. */
export const byteSize = z.union([z.int(), z.string()]).transform((input, ctx) => {
  const match = typeof input === 'string' ? SIZE.exec(input.trim()) : null;
  const bytes =
    typeof input === 'number' ? input : match ? Number(match[1]) * UNIT_BYTES[(match[2] ?? 'B') as keyof typeof UNIT_BYTES] : NaN;
  if (!(bytes >= 1 && bytes <= MAX_SIZE_CAP)) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid size ${JSON.stringify(input)} (expected a size from 1B to ${formatSize(MAX_SIZE_CAP)}, such as 512KiB or 4MiB)`,
    });
    return z.NEVER;
  }
  return bytes;
});

/** `4MiB` for 4194304: sizes in messages as they are written in the config. */
export function formatSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) if (bytes % UNIT_BYTES[unit] === 0) return `${bytes / UNIT_BYTES[unit]}${unit}`;
  return `${bytes}B`;
}
