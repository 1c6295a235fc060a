import { CollectionError } from '../collection-error.ts';

/**
 * A strict parser of untrusted Prometheus text exposition (0.0.4) and OpenMetrics 1.0 text, for `output:
 * prometheus` and textfile sources. Hand-written: `parse-prometheus-text-format` (the one npm parser) has had no
 * release since 2017, does not know OpenMetrics, and accepts malformed lines silently. One pass, no regular
 * expression over a whole line, every line bounded: hostile input costs at most its (capped) size in time.
 *
 * Returned are the families as written: their samples by name and labels, values as numbers; timestamps and
 * OpenMetrics exemplars are checked and dropped. A malformed line fails with reason `parse` and its line
 * number, a sample written twice with `duplicate`, a family with more series than the source's limit with
 * `series_limit`.
 */

/** The family types of both formats; `untyped` (0.0.4) and `unknown` (OpenMetrics) are both read as `untyped`. */
type FamilyType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'stateset' | 'info' | 'untyped';

/** A sample; its name is its family's plus its suffix (not kept per sample: a worker's heap is small). */
export interface TextSample {
  /** What the sample's name adds to the family's name (`''`, `_total`, `_bucket`, `_sum`, …). */
  readonly suffix: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface TextFamily {
  readonly name: string;
  type: FamilyType;
  help: string;
  unit: string;
  /** Whether a TYPE line declared the type (an undeclared family is `untyped`). */
  typed: boolean;
  readonly samples: TextSample[];
}

/** A line longer than this fails the parse: no legitimate series needs it, and it bounds every per-line step. */
export const MAX_LINE_LENGTH = 64 * 1024;

// Maps, not object literals: a TYPE of "constructor" must not find Object.prototype's members.
const TYPES = new Map<string, FamilyType>([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['gaugehistogram', 'gaugehistogram'],
  ['summary', 'summary'],
  ['stateset', 'stateset'],
  ['info', 'info'],
  ['untyped', 'untyped'],
  ['unknown', 'untyped'],
]);

// The suffixes each type's samples may carry (OpenMetrics 1.0 "Metric types"; 0.0.4 counters carry their name bare).
const SUFFIXES: Record<FamilyType, readonly string[]> = {
  counter: ['', '_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['', '_count', '_sum', '_created'],
  stateset: [''],
  info: ['_info'],
  untyped: [''],
};
const GROUPED: ReadonlySet<FamilyType> = new Set(['histogram', 'gaugehistogram', 'summary']);
const ALL_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

export interface ParseOptions {
  /** What the text is, for messages: `the output of ./x.sh`, a file's path. */
  readonly what: string;
  /** Most series (label sets, buckets and quantiles aside) one family may have. */
  readonly seriesLimit: number;
}

/** A parse for the mapping pool's workers (mapping-worker.ts): the bytes are transferred, not copied. */
export interface PrometheusTextJob extends ParseOptions {
  readonly bytes: Uint8Array;
}

/** The families of `bytes` (UTF-8 text), in the order they first appear. Throws a CollectionError (see above). */
export function parsePrometheusText(bytes: Uint8Array, options: ParseOptions): TextFamily[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CollectionError('parse', `${options.what} is not UTF-8 text`);
  }
  return new Parser(text, options).parse();
}

class Parser {
  readonly #text: string;
  readonly #options: ParseOptions;
  readonly #families = new Map<string, TextFamily>();
  // Each family's samples seen so far (suffix and labels), and its series (labels without `le` and `quantile`).
  readonly #seen = new Map<TextFamily, Set<string>>();
  readonly #series = new Map<TextFamily, Set<string>>();
  readonly #sampleCounts = new Map<TextFamily, number>();
  #lineNumber = 0;
  // The line being read, and where in it.
  #line = '';
  #at = 0;

  constructor(text: string, options: ParseOptions) {
    this.#text = text;
    this.#options = options;
  }

  parse(): TextFamily[] {
    const text = this.#text;
    let start = 0;
    let eof = false;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      this.#lineNumber++;
      if (end - start > MAX_LINE_LENGTH) this.#fail(`the line is longer than ${MAX_LINE_LENGTH} characters`);
      let line = text.slice(start, end);
      start = end + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (eof) this.#fail('text after "# EOF"');
      this.#line = line;
      this.#at = 0;
      if (line.trim() === '') continue;
      if (line.startsWith('#')) eof = this.#comment();
      else this.#sample();
    }
    return [...this.#families.values()];
  }

  /** A `#` line: HELP, TYPE, UNIT or EOF; any other comment is skipped (0.0.4 allows them). True at `# EOF`. */
  #comment(): boolean {
    if (this.#line === '# EOF') return true;
    this.#at = 1;
    this.#spaces();
    const keyword = this.#word();
    if (keyword !== 'HELP' && keyword !== 'TYPE' && keyword !== 'UNIT') return false;
    if (!this.#spaces()) this.#fail(`expected a metric name after # ${keyword}`);
    const name = this.#metricName();
    const rest =
      this.#at === this.#line.length ? '' : this.#spaces() ? this.#line.slice(this.#at) : this.#fail(`expected a space after ${name}`);
    const family = this.#family(name);
    if (family.samples.length > 0) this.#fail(`# ${keyword} ${name} comes after samples of ${name}`);
    if (keyword === 'TYPE') {
      if (family.typed) this.#fail(`a second # TYPE line for ${name}`);
      const type = TYPES.get(rest.trim());
      if (type === undefined) this.#fail(`unknown type "${rest.trim().slice(0, 40)}" for ${name}`);
      family.type = type;
      family.typed = true;
    } else if (keyword === 'HELP') {
      if (family.help !== '') this.#fail(`a second # HELP line for ${name}`);
      family.help = unescapeHelp(rest);
    } else {
      family.unit = rest.trim();
    }
    return false;
  }

  /** `name{label="value",…} value [timestamp] [# exemplar]` */
  #sample(): void {
    const name = this.#metricName();
    let spaced = this.#spaces();
    const labels: Record<string, string> = {};
    if (this.#line[this.#at] === '{') {
      this.#labels(labels);
      spaced = this.#spaces();
    }
    if (!spaced) this.#fail(`expected a space before the value of ${name}`);
    const value = this.#number(this.#token(), `the value of ${name}`);
    if (this.#spaces() && this.#at < this.#line.length && this.#line[this.#at] !== '#') {
      // The timestamp: checked, then dropped (the scrape's time is the sample's time).
      this.#number(this.#token(), `the timestamp of ${name}`);
      this.#spaces();
    }
    // An OpenMetrics exemplar (`# {trace_id="…"} 1`): not exported.
    if (this.#at < this.#line.length && !this.#line.startsWith('# {', this.#at)) this.#fail(`unexpected "${this.#rest()}" after ${name}`);
    const [family, suffix] = this.#familyOf(name);
    if (suffix === '_bucket' && labels.le === undefined) this.#fail(`${name} has no le label`);
    if (suffix === '_bucket') this.#number(labels.le!, `the le label of ${name}`);
    if (family.type === 'summary' && suffix === '') {
      if (labels.quantile === undefined) this.#fail(`${name} has no quantile label`);
      this.#number(labels.quantile, `the quantile label of ${name}`);
    }
    this.#count(family, name, suffix, labels);
    family.samples.push({ suffix, labels, value });
  }

  #labels(labels: Record<string, string>): void {
    this.#at++; // {
    for (;;) {
      this.#spaces();
      if (this.#line[this.#at] === '}') break;
      const name = this.#labelName();
      this.#spaces();
      if (this.#line[this.#at] !== '=') this.#fail(`expected = after the label ${name}`);
      this.#at++;
      this.#spaces();
      if (this.#line[this.#at] !== '"') this.#fail(`expected a quoted value for the label ${name}`);
      const value = this.#quoted();
      if (Object.hasOwn(labels, name)) this.#fail(`the label ${name} is given twice`);
      labels[name] = value;
      this.#spaces();
      const next = this.#line[this.#at];
      if (next === ',') this.#at++;
      else if (next !== '}') this.#fail(`expected , or } after the label ${name}`);
    }
    this.#at++; // }
  }

  // A label value: `\\`, `\"` and `\n` are its only escapes.
  #quoted(): string {
    const line = this.#line;
    const open = this.#at++;
    let value = '';
    let from = this.#at;
    for (; this.#at < line.length; this.#at++) {
      const c = line[this.#at];
      if (c === '"') {
        value += line.slice(from, this.#at++);
        return value;
      }
      if (c === '\\') {
        value += line.slice(from, this.#at);
        const escaped = line[++this.#at];
        if (escaped === '\\' || escaped === '"') value += escaped;
        else if (escaped === 'n') value += '\n';
        else this.#fail(`invalid escape "\\${escaped ?? ''}" in a label value`);
        from = this.#at + 1;
      }
    }
    this.#at = open;
    return this.#fail('a label value is not closed by "');
  }

  /** The family a sample named `name` belongs to, and the suffix its name adds; a new untyped family if none. */
  #familyOf(name: string): [TextFamily, string] {
    const exact = this.#families.get(name);
    if (exact !== undefined) {
      if (!SUFFIXES[exact.type].includes(''))
        this.#fail(`${name} is a ${exact.type}: its samples are named ${name}${SUFFIXES[exact.type][0]}, …`);
      return [exact, ''];
    }
    for (const suffix of ALL_SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      const family = this.#families.get(name.slice(0, -suffix.length));
      if (family !== undefined && SUFFIXES[family.type].includes(suffix)) return [family, suffix];
    }
    return [this.#family(name), ''];
  }

  #family(name: string): TextFamily {
    let family = this.#families.get(name);
    if (family === undefined) {
      family = { name, type: 'untyped', help: '', unit: '', typed: false, samples: [] };
      this.#families.set(name, family);
    }
    return family;
  }

  // Refuses a sample written twice, and a family's series past the limit.
  #count(family: TextFamily, name: string, suffix: string, labels: Record<string, string>): void {
    const { sample: key, series: seriesKey } = sampleKeys(suffix, labels);
    let seen = this.#seen.get(family);
    if (seen === undefined) {
      seen = new Set();
      this.#seen.set(family, seen);
    }
    if (seen.has(key)) throw new CollectionError('duplicate', `${this.#where()}: ${name}${this.#labelText(labels)} is written twice`);
    seen.add(key);
    let count: number;
    if (GROUPED.has(family.type)) {
      // Several samples make one series (buckets, quantiles, _sum, _count): count their label sets.
      let series = this.#series.get(family);
      if (series === undefined) {
        series = new Set();
        this.#series.set(family, series);
      }
      series.add(seriesKey);
      count = series.size;
    } else {
      // One sample is one series (none is written twice): count them, which keeps no key (a worker's heap is small).
      count = (this.#sampleCounts.get(family) ?? 0) + (suffix === '_created' ? 0 : 1);
      this.#sampleCounts.set(family, count);
    }
    if (count > this.#options.seriesLimit) {
      throw new CollectionError(
        'series_limit',
        `${this.#where()}: ${family.name} has more than ${this.#options.seriesLimit} series (raise global.seriesLimit or reduce its labels)`,
      );
    }
  }

  #labelText(labels: Record<string, string>): string {
    const text = Object.entries(labels)
      .map(([l, v]) => `${l}=${JSON.stringify(v)}`)
      .join(',');
    return text === '' ? '' : `{${text.length > 200 ? `${text.slice(0, 200)}…` : text}}`;
  }

  #metricName(): string {
    const line = this.#line;
    const start = this.#at;
    if (!isNameStart(line.charCodeAt(start), true)) this.#fail(`expected a metric name at "${this.#rest()}"`);
    this.#at++;
    while (this.#at < line.length && isNameChar(line.charCodeAt(this.#at), true)) this.#at++;
    return line.slice(start, this.#at);
  }

  #labelName(): string {
    const line = this.#line;
    const start = this.#at;
    if (!isNameStart(line.charCodeAt(start), false)) this.#fail(`expected a label name at "${this.#rest()}"`);
    this.#at++;
    while (this.#at < line.length && isNameChar(line.charCodeAt(this.#at), false)) this.#at++;
    const name = line.slice(start, this.#at);
    // Prometheus reserves them (and `__proto__` must not reach an object's prototype).
    if (name.startsWith('__')) this.#fail(`the label name ${name} starts with __ (reserved by Prometheus)`);
    return name;
  }

  #word(): string {
    const start = this.#at;
    while (this.#at < this.#line.length && !isSpace(this.#line.charCodeAt(this.#at))) this.#at++;
    return this.#line.slice(start, this.#at);
  }

  #token(): string {
    const token = this.#word();
    if (token === '') this.#fail('expected a value');
    return token;
  }

  /** Skips spaces and tabs; whether there were any. */
  #spaces(): boolean {
    const start = this.#at;
    while (this.#at < this.#line.length && isSpace(this.#line.charCodeAt(this.#at))) this.#at++;
    return this.#at > start;
  }

  #number(token: string, what: string): number {
    return numberText(token) ?? this.#fail(`${what} is not a number: "${token.slice(0, 40)}"`);
  }

  #rest(): string {
    const rest = this.#line.slice(this.#at, this.#at + 40);
    return this.#line.length - this.#at > 40 ? `${rest}…` : rest;
  }

  #where(): string {
    return `${this.#options.what}, line ${this.#lineNumber}`;
  }

  #fail(message: string): never {
    throw new CollectionError('parse', `${this.#where()}: ${message}`);
  }
}

// Go's strconv.ParseFloat forms that Prometheus writes and reads (no hex, no digit separators).
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL = new Map([
  ['nan', Number.NaN],
  ['inf', Number.POSITIVE_INFINITY],
  ['+inf', Number.POSITIVE_INFINITY],
  ['-inf', Number.NEGATIVE_INFINITY],
]);

/**
 * Keys of a sample within its family: `sample` tells one sample from another (suffix and labels, in any order),
 * `series` one series from another (labels but `le` and `quantile`). Each part is prefixed by its length, so no
 * label value can pass for a separator.
 */
export function sampleKeys(suffix: string, labels: Readonly<Record<string, string>>): { sample: string; series: string } {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let series = '';
  let bounds = '';
  for (const label of names) {
    const part = `${label.length}:${label}${labels[label]!.length}:${labels[label]}`;
    if (label === 'le' || label === 'quantile') bounds += part;
    else series += part;
  }
  return { sample: `${suffix}|${series}|${bounds}`, series };
}

/** A sample value (or `le`, `quantile`) as Prometheus writes it: decimal, exponent, NaN or ±Inf; else undefined. */
export function numberText(token: string): number | undefined {
  return NUMBER.test(token) ? Number(token) : SPECIAL.get(token.toLowerCase());
}

// HELP text: `\\` and `\n` (and OpenMetrics' `\"`); 0.0.4 leaves any other backslash as it is.
function unescapeHelp(text: string): string {
  return text.replace(/\\(.?)/g, (all, c: string) => (c === '\\' ? '\\' : c === 'n' ? '\n' : c === '"' ? '"' : all));
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

// [a-zA-Z_] (and `:` in metric names) to start, digits after.
function isNameStart(c: number, metric: boolean): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (metric && c === 0x3a);
}

function isNameChar(c: number, metric: boolean): boolean {
  return isNameStart(c, metric) || (c >= 0x30 && c <= 0x39);
}
