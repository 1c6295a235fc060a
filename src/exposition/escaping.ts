import type { Escaping } from './format.ts';
import { escapeLabelValue } from './prometheus-names.ts';

/**
 * Metric and label names outside the classic charset, by Prometheus' "UTF-8 metric and label name escaping schemes"
 * (docs/instrumenting/escaping_schemes.md) and its reference implementation, prometheus/common `model.EscapeName`.
 * A name already in the classic charset is written as it is under every scheme, as client_golang's
 * `EscapeMetricFamily` does (so `dots` does not double the underscores of names that never needed escaping).
 */

/** `[a-zA-Z_:][a-zA-Z0-9_:]*`: a metric name every Prometheus text parser reads unquoted. */
const CLASSIC_METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** `[a-zA-Z_][a-zA-Z0-9_]*`: a label name every Prometheus text parser reads unquoted (no colon, unlike metric names). */
const CLASSIC_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isClassicMetricName(name: string): boolean {
  return CLASSIC_METRIC.test(name);
}

export function isClassicLabelName(name: string): boolean {
  return CLASSIC_LABEL.test(name);
}

/** A metric name as the scheme writes it; under `allow-utf-8` the name itself (the writer quotes it where needed). */
export function escapeMetricName(name: string, escaping: Escaping): string {
  return escaping === 'allow-utf-8' || isClassicMetricName(name) ? name : rewrite(name, escaping, true);
}

/** A label name as the scheme writes it; a colon, valid in metric names only, is escaped like any other character. */
export function escapeLabelName(name: string, escaping: Escaping): string {
  return escaping === 'allow-utf-8' || isClassicLabelName(name) ? name : rewrite(name, escaping, false);
}

/**
 * A name in a Prometheus text format under `allow-utf-8` (text 1.0.0, OpenMetrics with UTF-8 names): outside the
 * classic charset it is written in double quotes, with `\`, newline and `"` escaped (escaping_schemes.md, "No
 * Escaping"), e.g. `{"http.server.duration","k.v"="x"} 1`.
 */
export function quotedName(name: string): string {
  return `"${escapeLabelValue(name)}"`;
}

function rewrite(name: string, escaping: Exclude<Escaping, 'allow-utf-8'>, colon: boolean): string {
  let out = escaping === 'values' ? 'U__' : '';
  let first = true;
  for (const character of name) {
    const code = character.codePointAt(0)!;
    const classic =
      (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57 && !first) || (colon && code === 58);
    first = false;
    if (code === 95) {
      // `_`: kept by `underscores`; doubled by `dots` and `values`, so that their own `_` sequences stay readable.
      out += escaping === 'underscores' ? '_' : '__';
    } else if (classic) {
      out += character;
    } else if (escaping === 'underscores') {
      // "Any character that is not in the legacy character set MUST be replaced with an underscore."
      out += '_';
    } else if (escaping === 'dots') {
      // "Dots MUST be replaced with `_dot_` … other non-legacy characters MUST be replaced with single underscores."
      out += code === 46 ? '_dot_' : '_';
    } else {
      // "replaced with its Unicode code point in hexadecimal, surrounded by underscores" (lower-case hex, as
      // model.EscapeName writes it); a lone surrogate is no code point of valid UTF-8: U+FFFD, as Go writes it.
      out += code >= 0xd800 && code <= 0xdfff ? '_FFFD_' : `_${code.toString(16)}_`;
    }
  }
  return out;
}
