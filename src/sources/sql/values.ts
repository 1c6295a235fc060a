import type { SqlValue } from './driver.ts';

// Beyond ±2^53 not every integer is a float64: such a value is exported only when it is one exactly.
const MAX_EXACT = 2n ** 53n;

/**
 * The number a column's value stands for: numbers as they are, integers and decimals (bigint or the exact decimal
 * text the driver returns) without silent precision loss, booleans 1/0, times in Unix seconds. `undefined` for
 * NULL (the row has no series). Any other value: a reason (why it is not a number) to report as `value`.
 */
export function metricValue(value: SqlValue): number | undefined | { readonly problem: string } {
  if (value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.getTime() / 1000;
  if (typeof value === 'bigint') return exactBigInt(value);
  if (typeof value === 'string') return decimalText(value);
  return { problem: 'is binary data, not a number' };
}

/** A label's text: NULL is the empty label, times are ISO 8601 (UTC), binary data is hexadecimal. */
export function labelText(value: SqlValue): string {
  if (value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return String(value);
}

function exactBigInt(value: bigint): number | { problem: string } {
  const number = Number(value);
  if (value >= -MAX_EXACT && value <= MAX_EXACT) return number;
  return BigInt(number) === value ? number : { problem: `${value} is not exactly representable as a float64 (beyond ±2^53)` };
}

// Decimal text as PostgreSQL and MySQL write numeric and bigint values: an optional sign, digits, a fraction.
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

function decimalText(text: string): number | { problem: string } {
  const trimmed = text.trim();
  // NUMERIC's special values, as Prometheus writes them too.
  if (/^[+-]?(inf|infinity)$/i.test(trimmed)) return trimmed.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^nan$/i.test(trimmed)) return Number.NaN;
  const parts = DECIMAL.exec(trimmed);
  const number = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(number)) return { problem: `"${text.slice(0, 80)}" is not a number` };
  if (!parts) return number; // exponent notation (a float column written as text): a float64 already
  const [, sign, whole = '', fraction = ''] = parts;
  const integer = BigInt(`${sign}${whole || '0'}`);
  if (integer >= -MAX_EXACT && integer <= MAX_EXACT) return number;
  if (/^0*$/.test(fraction) && BigInt(number) === integer) return number;
  return { problem: `${trimmed} is not exactly representable as a float64 (beyond ±2^53)` };
}
