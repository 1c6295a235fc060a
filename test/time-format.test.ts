// parseTime's formats against the platform's own clock arithmetic: any instant written as RFC 3339 with any
// offset, or as a zone's wall clock (Intl, ICU's time zone data), reads back as that instant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileFormat, parseTime } from '../src/sources/time-format.ts';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
// 1900 to 2100, whole seconds.
const instants = fc.integer({ min: -2_208_988_800, max: 4_102_444_800 }).map((s) => s * 1000);

test('RFC 3339 with any offset and fraction reads back as the instant it was written from', () => {
  const rfc3339 = compileFormat('rfc3339');
  fc.assert(
    fc.property(instants, fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), fc.integer({ min: 0, max: 999 }), (ms, offset, millis) => {
      const wall = new Date(ms + offset * 60_000);
      const sign = offset < 0 ? '-' : '+';
      const text = `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}T${pad(wall.getUTCHours())}:${pad(
        wall.getUTCMinutes(),
      )}:${pad(wall.getUTCSeconds())}.${pad(millis, 3)}${sign}${pad(Math.trunc(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
      const seconds = parseTime(text, rfc3339, 'UTC');
      assert.ok(Math.abs(seconds - (ms / 1000 + millis / 1000)) < 1e-6, `${text}: ${seconds}`);
    }),
    { numRuns: 2000 },
  );
});

test("a zone's wall clock reads back as the instant, or the earlier one when the wall clock shows it twice", () => {
  const layout = compileFormat('%Y-%m-%d %H:%M:%S');
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Apia'];
  fc.assert(
    fc.property(instants, fc.constantFrom(...zones), (ms, zone) => {
      const parts: Record<string, string> = {};
      const format = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      for (const { type, value } of format.formatToParts(ms)) parts[type] = value;
      const text = `${pad(Number(parts.year), 4)}-${pad(Number(parts.month))}-${pad(Number(parts.day))} ${pad(Number(parts.hour))}:${parts.minute}:${parts.second}`;
      const seconds = parseTime(text, layout, zone);
      if (seconds === ms / 1000) return;
      // Shown twice: the earlier instant, which the zone's clock shows the same.
      assert.ok(seconds < ms / 1000 && ms / 1000 - seconds <= 3 * 3600, `${zone} ${text}: ${seconds} for ${ms / 1000}`);
      const again: Record<string, string> = {};
      for (const { type, value } of format.formatToParts(seconds * 1000)) again[type] = value;
      assert.deepEqual(again, parts, `${zone} ${text}`);
    }),
    { numRuns: 2000 },
  );
});

test('layouts: 12-hour clocks, month names, offsets without a colon, one-digit fields; out of range fields are errors', () => {
  const at = (text: string, format: string, zone = 'UTC') => parseTime(text, compileFormat(format), zone);
  assert.equal(at('1/2/2024 12:00 PM', '%m/%d/%Y %I:%M %p'), Date.UTC(2024, 0, 2, 12) / 1000);
  assert.equal(at('1/2/2024 12:00 am', '%m/%d/%Y %I:%M %p'), Date.UTC(2024, 0, 2, 0) / 1000);
  assert.equal(at('02-FEB-2024 07:08:09.5 +0130', '%d-%b-%Y %H:%M:%S.%f %z'), Date.UTC(2024, 1, 2, 5, 38, 9) / 1000 + 0.5);
  assert.equal(at('2024-02-29', '%Y-%m-%d'), Date.UTC(2024, 1, 29) / 1000);
  assert.equal(at('2024-01-01 100%', '%Y-%m-%d 100%%'), Date.UTC(2024, 0, 1) / 1000);
  // Year 99 is not 1999 (as Date.UTC would have it).
  assert.equal(at('0099-01-01', 'iso8601'), -59042995200);
  assert.throws(() => at('2023-02-29', '%Y-%m-%d'), /^Error: day 29 is not in 2023-02$/);
  assert.throws(() => at('2024-13-01', '%Y-%m-%d'), /^Error: month 13 is not 1 to 12$/);
  assert.throws(() => at('2024-01-01 24:00', '%Y-%m-%d %H:%M'), /^Error: hour 24 is not 0 to 23$/);
  assert.throws(() => at('2024-01-01 10:60', '%Y-%m-%d %H:%M'), /^Error: minute 60 is not 0 to 59$/);
  assert.throws(() => at('1/2/2024 0:00 AM', '%m/%d/%Y %I:%M %p'), /^Error: hour 0 is not 1 to 12$/);
  assert.throws(() => at('2024-01-01T00:00:00+24:00', 'rfc3339'), /^Error: offset \+24:00 is out of range$/);
  assert.throws(() => at('2024-01-01 00:00', 'rfc3339'), /^Error: not rfc3339$/);
  assert.throws(() => at('Foo 1 2024', '%b %d %Y'), /^Error: month Foo is not 1 to 12$/);
});
