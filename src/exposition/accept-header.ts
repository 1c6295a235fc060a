/** One element of an Accept header: a media range with its parameters and weight (RFC 9110 §12.5.1). */
export interface MediaRange {
  /** Lower-cased, `*` for a wildcard. */
  readonly type: string;
  readonly subtype: string;
  /** Parameters other than `q`, by lower-cased name; quoted values unquoted. */
  readonly params: ReadonlyMap<string, string>;
  /** The weight, 0 to 1 (1 when absent). */
  readonly q: number;
}

/**
 * Headers with more ranges than this are treated as malformed: Prometheus sends at most six, and the limit bounds
 * the work a hostile header causes (Node already caps the whole header block at the server's maxHeaderSize).
 */
export const MAX_MEDIA_RANGES = 32;

// RFC 9110 §5.6.2 token, §5.6.6 OWS, §5.6.4 quoted-string (qdtext or quoted-pair; obs-text allowed), §12.4.2 qvalue.
const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const OWS = /[ \t]*/y;
const QUOTED_STRING = /"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"/y;
const QUOTED_PAIR = /\\(.)/g;
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * Parses an Accept header strictly by RFC 9110's grammar: the media ranges in header order, or undefined when any
 * part of it is malformed (or it has more than MAX_MEDIA_RANGES ranges). Empty list elements are allowed (§5.6.1).
 */
export function parseAccept(header: string): MediaRange[] | undefined {
  const scanner = new Scanner(header);
  const ranges: MediaRange[] = [];
  for (;;) {
    scanner.skip(OWS);
    if (scanner.done()) return ranges;
    if (scanner.take(',')) continue;
    const range = mediaRange(scanner);
    if (!range || ranges.push(range) > MAX_MEDIA_RANGES) return undefined;
    scanner.skip(OWS);
    if (scanner.done()) return ranges;
    if (!scanner.take(',')) return undefined;
  }
}

function mediaRange(scanner: Scanner): MediaRange | undefined {
  const type = scanner.match(TOKEN)?.toLowerCase();
  if (type === undefined || !scanner.take('/')) return undefined;
  const subtype = scanner.match(TOKEN)?.toLowerCase();
  if (subtype === undefined || (type === '*' && subtype !== '*')) return undefined;
  const params = new Map<string, string>();
  let q = 1;
  for (;;) {
    const before = scanner.position;
    scanner.skip(OWS);
    if (!scanner.take(';')) {
      scanner.position = before;
      return { type, subtype, params, q };
    }
    scanner.skip(OWS);
    const name = scanner.match(TOKEN)?.toLowerCase();
    // `parameters` allows an empty parameter between semicolons.
    if (name === undefined) continue;
    if (!scanner.take('=')) return undefined;
    const value = scanner.match(TOKEN) ?? scanner.match(QUOTED_STRING, 1)?.replace(QUOTED_PAIR, '$1');
    if (value === undefined) return undefined;
    if (name === 'q') {
      if (!QVALUE.test(value)) return undefined;
      q = Number(value);
    } else {
      params.set(name, value);
    }
  }
}

class Scanner {
  readonly #text: string;
  position = 0;

  constructor(text: string) {
    this.#text = text;
  }

  done(): boolean {
    return this.position >= this.#text.length;
  }

  take(char: string): boolean {
    if (this.#text[this.position] !== char) return false;
    this.position++;
    return true;
  }

  skip(pattern: RegExp): void {
    this.match(pattern);
  }

  /** The text the sticky pattern matches here (or its group), consumed; undefined when it does not match. */
  match(pattern: RegExp, group = 0): string | undefined {
    pattern.lastIndex = this.position;
    const found = pattern.exec(this.#text);
    if (!found) return undefined;
    this.position = pattern.lastIndex;
    return found[group];
  }
}
