/** Most problems one ConfigError prints; the rest are counted (a random file would otherwise print megabytes). */
const MAX_PROBLEMS_SHOWN = 20;
/** Longest problem line printed: a field echoing a huge token is cut (issue 11). */
const MAX_PROBLEM_CHARS = 400;

/** A file that cannot be used; `message` has one `file:line:col: field: reason` line per problem, bounded. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** Every problem, uncut: the message shows the first MAX_PROBLEMS_SHOWN. */
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? problems.split('\n') : problems;
    const shown = list.slice(0, MAX_PROBLEMS_SHOWN).map(printable);
    const hidden = list.length - shown.length;
    super([...shown, ...(hidden > 0 ? [`… and ${hidden} more problem${hidden === 1 ? '' : 's'}`] : [])].join('\n'));
    this.problems = list;
  }
}

// Control characters, lone surrogates and unassigned code points (a JSONPath parser's message quotes its
// character classes raw) are written as \uXXXX escapes, so a terminal shows what the message says.
const UNPRINTABLE = /[\p{Cc}\p{Cs}\p{Cn}]/gu;

function printable(line: string): string {
  const cut = line.length > MAX_PROBLEM_CHARS ? line.slice(0, MAX_PROBLEM_CHARS * 2) : line;
  const escaped = cut.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped.length <= MAX_PROBLEM_CHARS) return escaped;
  // Not inside a surrogate pair, which would print as U+FFFD.
  const end = /[\uD800-\uDBFF]/.test(escaped[MAX_PROBLEM_CHARS - 2]!) ? MAX_PROBLEM_CHARS - 2 : MAX_PROBLEM_CHARS - 1;
  return `${escaped.slice(0, end)}…`;
}
