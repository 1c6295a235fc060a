import { type Document, isNode, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error.ts';

export { ConfigError };

export type FieldPath = readonly (string | number)[];
/** `file:line:col` of a field (or of its nearest existing parent). */
export type Locate = (path: FieldPath) => string;

/** Most alias expansions a file may cause (the yaml package's default): a billion-laughs file is refused. */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses YAML and validates it with `schema`, keeping positions: every problem becomes one
 * `file:line:col: field: reason` line of a ConfigError. `precheck` sees the parsed document before it becomes
 * plain data, to refuse a file that is too big to validate. Only plain data is accepted: a tag the YAML 1.2 core
 * schema does not know (`!vault`, `!!js/function`) is an error rather than silently read as a string.
 */
export function parseYaml<Schema extends z.ZodType>(
  text: string,
  file: string,
  schema: Schema,
  precheck?: (doc: Document, locate: Locate) => void,
): { data: z.output<Schema>; locate: Locate } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    throw new ConfigError(problems.map((e) => `${at(e.pos[0])}: invalid YAML: ${e.message.split('\n')[0]}`));
  }
  const locate: Locate = (path) => locateIn(doc, lines, file, path);
  precheck?.(doc, locate);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    throw new ConfigError(`${at(firstAliasOffset(doc))}: invalid YAML: ${err.message} (aliases expand to too much data)`);
  }
  const result = schema.safeParse(data ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, locate));
  return { data: result.data, locate };
}

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

export function fieldName(path: FieldPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** One `file:line:col: field: reason` line per issue; `prefix` places the validated value inside the file. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], locate: Locate, prefix: FieldPath = []): string {
  return issues
    .map((issue) => {
      const path = [...prefix, ...(issue.path.filter((p) => typeof p !== 'symbol') as (string | number)[])];
      const field = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0] ?? ''] : path;
      return `${locate(field)}: ${fieldName(field) || '(top level)'}: ${reason(issue)}`;
    })
    .join('\n');
}

function reason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required field is missing';
  return issue.message;
}

// The deepest node on `path` that exists: a missing field points at its parent.
function locateIn(doc: Document, lines: LineCounter, file: string, path: FieldPath): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const keyNode = depth > 0 ? keyNodeOf(doc, path.slice(0, depth)) : undefined;
    const target = keyNode ?? node;
    if (isNode(target) && target.range) {
      const at = lines.linePos(target.range[0]);
      return `${file}:${at.line}:${at.col}`;
    }
  }
  return file;
}

function keyNodeOf(doc: Document, path: FieldPath): unknown {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const key = path.at(-1);
  if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items)) {
    const pair = parent.items.find((item: { key?: { value?: unknown } }) => item?.key?.value === key);
    return pair?.key;
  }
  return undefined;
}
