/**
 * Timestamps in text to Unix seconds, for the `parseTime` transform: RFC 3339, ISO 8601, or a strftime-style layout
 * (`%Y-%m-%d %H:%M`), in UTC or an IANA time zone when the text has no offset. No library: Intl (Node's full ICU)
 * knows the zones, and the layouts are a small documented subset (README "Mapping JSON to metrics").
 *
 * Leap seconds: Unix time has none, so a second of 60 (`23:59:60Z`, allowed by RFC 3339 5.6) is the next second,
 * as POSIX's mktime normalises it.
 */

/** A compiled format: the text of a timestamp → its fields, or undefined when the text does not have its shape. */
interface CompiledFormat {
  /** As the config gives it, for messages. */
  readonly name: string;
  readonly pattern: RegExp;
}

// RFC 3339 5.6 date-time, offset required; a space instead of T is allowed by its note in 5.6.
const RFC3339 = /^(?<Y>\d{4})-(?<m>\d{2})-(?<d>\d{2})[Tt ](?<H>\d{2}):(?<M>\d{2}):(?<S>\d{2})(?<f>\.\d+)?(?<z>[Zz]|[+-]\d{2}:\d{2})$/;
// ISO 8601 calendar dates, extended (2024-05-01T12:30:00,5+02:00) or basic (20240501T123000Z) format; the time,
// its seconds and the offset are optional.
const ISO8601 =
  /^(?<Y>\d{4})-?(?<m>\d{2})-?(?<d>\d{2})(?:[Tt ](?<H>\d{2})(?::?(?<M>\d{2})(?::?(?<S>\d{2}))?)?(?<f>[.,]\d+)?)?(?<z>[Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

// The layout directives, each a named group; the digits of numbers may be one or two where strptime allows it.
const DIRECTIVES: Record<string, string> = {
  Y: '(?<Y>\\d{4})',
  m: '(?<m>\\d{1,2})',
  d: '(?<d>\\d{1,2})',
  H: '(?<H>\\d{1,2})',
  I: '(?<I>\\d{1,2})',
  p: '(?<p>[AaPp][Mm])',
  M: '(?<M>\\d{1,2})',
  S: '(?<S>\\d{1,2})',
  f: '(?<f>\\d{1,9})',
  z: '(?<z>[Zz]|[+-]\\d{2}:?\\d{2})',
  b: '(?<b>[A-Za-z]{3})',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The names of the predefined formats; anything else is a layout. */
const NAMED_FORMATS = ['rfc3339', 'iso8601'] as const;

/** Compiles `format` (a named format or a layout); throws an Error saying what is wrong with it. */
export function compileFormat(format: string): CompiledFormat {
  if (format === 'rfc3339') return { name: format, pattern: RFC3339 };
  if (format === 'iso8601') return { name: format, pattern: ISO8601 };
  let source = '';
  const seen = new Set<string>();
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      continue;
    }
    const directive = format[++i];
    if (directive === '%') {
      source += '%';
      continue;
    }
    if (directive === undefined || !Object.hasOwn(DIRECTIVES, directive))
      throw new Error(
        `unknown directive %${directive ?? ''} (known: ${Object.keys(DIRECTIVES)
          .map((d) => `%${d}`)
          .join(' ')} %%)`,
      );
    if (seen.has(directive)) throw new Error(`%${directive} is given twice`);
    seen.add(directive);
    source += DIRECTIVES[directive];
  }
  if (!seen.has('Y') || !(seen.has('m') || seen.has('b')) || !seen.has('d'))
    throw new Error(`a layout needs %Y, %m (or %b) and %d (named formats: ${NAMED_FORMATS.join(', ')})`);
  if (seen.has('H') && seen.has('I')) throw new Error('give %H or %I, not both');
  if (seen.has('I') !== seen.has('p')) throw new Error('%I (12-hour clock) needs %p (AM/PM), and %p needs %I');
  return { name: format, pattern: new RegExp(`^${source}$`) };
}

/** Checks that `zone` is UTC or an IANA time zone Intl knows; throws a RangeError otherwise. */
export function checkTimeZone(zone: string): void {
  zoneFormatter(zone);
}

/**
 * `text` as Unix seconds (with the fraction it has), read with `format` (compiled by compileFormat), in `timeZone`
 * when the text has no offset of its own. Throws an Error saying why when the text is not such a time.
 */
export function parseTime(text: string, format: CompiledFormat, timeZone: string): number {
  const g = format.pattern.exec(text)?.groups;
  if (!g) throw new Error(`not ${format.name}`);
  const year = Number(g.Y);
  const month = g.b === undefined ? Number(g.m) : MONTHS.indexOf(g.b.toLowerCase()) + 1;
  const day = Number(g.d);
  let hour = Number(g.H ?? 0);
  if (g.I !== undefined) {
    const h12 = Number(g.I);
    if (h12 < 1 || h12 > 12) throw new Error(`hour ${h12} is not 1 to 12`);
    hour = (h12 % 12) + (g.p!.toLowerCase() === 'pm' ? 12 : 0);
  }
  const minute = Number(g.M ?? 0);
  const second = Number(g.S ?? 0);
  if (month < 1 || month > 12) throw new Error(`month ${g.m ?? g.b} is not 1 to 12`);
  if (day < 1 || day > daysInMonth(year, month)) throw new Error(`day ${day} is not in ${year}-${String(month).padStart(2, '0')}`);
  if (hour > 23) throw new Error(`hour ${hour} is not 0 to 23`);
  if (minute > 59) throw new Error(`minute ${minute} is not 0 to 59`);
  // 60: a leap second, which Unix time does not count (see above).
  if (second > 60) throw new Error(`second ${second} is not 0 to 60`);
  const fraction = g.f === undefined ? 0 : Number(`0.${g.f.replace(/^[.,]/, '')}`);
  const wall = utcMillis(year, month, day, hour, minute, second);
  const offset = g.z === undefined ? undefined : offsetMillis(g.z);
  const instant = offset === undefined ? zonedToUtc(wall, timeZone) : wall - offset;
  return instant / 1000 + fraction;
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMillis(year, month + 1, 0, 0, 0, 0)).getUTCDate();
}

// Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

function offsetMillis(z: string): number {
  if (z === 'Z' || z === 'z') return 0;
  const digits = z.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || 0);
  if (hours > 23 || minutes > 59) throw new Error(`offset ${z} is out of range`);
  return (z[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** How far `zone`'s wall clock is ahead of UTC at the instant `utc` (milliseconds). */
function zoneOffset(zone: string, utc: number): number {
  const parts: Record<string, string> = {};
  for (const { type, value } of zoneFormatter(zone).formatToParts(utc)) parts[type] = value;
  const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
  const wall = utcMillis(year, Number(parts.month), Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(utc / 1000) * 1000;
}

const DAY_MS = 86_400_000;

// A wall-clock time in `zone` to UTC, disambiguated like Temporal's "compatible" (and JavaScript's Date): a time
// that occurs twice (clocks set back) is the earlier one; a time skipped by clocks set forward is moved forward
// by the gap (02:30 on a spring-forward night that jumps from 02:00 to 03:00 is 03:30).
function zonedToUtc(wall: number, zone: string): number {
  const before = zoneOffset(zone, wall - DAY_MS);
  const after = zoneOffset(zone, wall + DAY_MS);
  const candidates = [wall - before, wall - after].filter((utc) => zoneOffset(zone, utc) === wall - utc);
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before;
}
