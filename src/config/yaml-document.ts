import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';

/** A file that cannot be used; `message` names the file, line, field and reason for each problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type FieldPath = readonly (string | number)[];
/** `file:line:col` of a field (or of its nearest existing parent). */
export type Locate = (path: FieldPath) => string;

/**
 * Parses YAML and validates it with `schema`, keeping positions: every problem becomes one
 * `file:line:col: field: reason` line of a ConfigError.
 */
export function parseYaml<Schema extends z.ZodType>(
  text: string,
  file: string,
  schema: Schema,
): { data: z.output<Schema>; locate: Locate } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors
        .map((e) => {
          const at = lines.linePos(e.pos[0]);
          return `${file}:${at.line}:${at.col}: invalid YAML: ${e.message.split('\n')[0]}`;
        })
        .join('\n'),
    );
  }
  const locate: Locate = (path) => locateIn(doc, lines, file, path);
  const result = schema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, locate));
  return { data: result.data, locate };
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
