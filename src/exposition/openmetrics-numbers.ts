import type { HrTime } from '@opentelemetry/api';

/**
 * A number in OpenMetrics' canonical form, which `le` label values MUST use (OpenMetrics.md, "Considerations:
 * Canonical Numbers"): Go's shortest `%g` (exponent form below 1e-4 and from 1e+06 on, two exponent digits at
 * least), with `.0` added where it has neither a point nor an exponent: `0.0`, `0.001`, `1.0`, `100000.0`,
 * `1e+06`, `1e-05`, `+Inf`.
 */
export function canonicalNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  const magnitude = Math.abs(value);
  if (magnitude === 0 || (magnitude >= 1e-4 && magnitude < 1e6)) {
    // JavaScript writes these without an exponent, with the same shortest digits as Go.
    const text = Object.is(value, -0) ? '-0' : String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  // toExponential() without digits gives the shortest digits that read back as the same number: `1.5e+23`.
  const text = value.toExponential();
  const at = text.indexOf('e');
  const exponent = text.slice(at + 2);
  return `${text.slice(0, at)}e${text[at + 1]}${exponent.length < 2 ? `0${exponent}` : exponent}`;
}

/**
 * A `_created` sample's value: the point's start time in seconds since the epoch, with as many of its nanosecond
 * digits as are not trailing zeros, never in exponent form ("Timestamps SHOULD NOT use exponential float rendering").
 * The last one is kept: the points of one instrument share their start time.
 */
let lastTime: HrTime | undefined;
let lastText = '';

export function createdText(time: HrTime): string {
  if (lastTime !== undefined && lastTime[0] === time[0] && lastTime[1] === time[1]) return lastText;
  const fraction = String(time[1]).padStart(9, '0').replace(/0+$/, '');
  lastTime = [time[0], time[1]];
  lastText = fraction === '' ? `${time[0]}` : `${time[0]}.${fraction}`;
  return lastText;
}
