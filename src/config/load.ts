import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import type { SourceDefinition } from '../sources/source.ts';
import { configSchema, type Config } from './schema.ts';
import type { ResolvedConfig, ResolvedSource } from './resolved.ts';

/** A config file that cannot be used; `message` names the file, line, field and reason for each problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export async function loadConfigFile(file: string, definitions: readonly SourceDefinition[]): Promise<ResolvedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file: ${(err as NodeJS.ErrnoException).message}`);
  }
  return parseConfig(text, file, definitions);
}

export function parseConfig(text: string, file: string, definitions: readonly SourceDefinition[]): ResolvedConfig {
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
  const result = configSchema(definitions).safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, doc, lines, file));
  return resolve(result.data as Config, definitions, file, doc, lines);
}

function describeIssues(issues: z.core.$ZodIssue[], doc: Document, lines: LineCounter, file: string): string {
  return issues
    .map((issue) => {
      const path = issue.path.filter((p) => typeof p !== 'symbol') as (string | number)[];
      const field = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0] ?? ''] : path;
      return `${locate(doc, lines, file, field)}: ${fieldName(field) || '(top level)'}: ${reason(issue)}`;
    })
    .join('\n');
}

function reason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required field is missing';
  return issue.message;
}

/** `file:line:col` of the deepest node on `path` that exists (a missing field points at its parent). */
function locate(doc: Document, lines: LineCounter, file: string, path: (string | number)[]): string {
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

function keyNodeOf(doc: Document, path: (string | number)[]): unknown {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const key = path.at(-1);
  if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items)) {
    const pair = parent.items.find((item: { key?: { value?: unknown } }) => item?.key?.value === key);
    return pair?.key;
  }
  return undefined;
}

export function fieldName(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function resolve(
  config: Config,
  definitions: readonly SourceDefinition[],
  file: string,
  doc: Document,
  lines: LineCounter,
): ResolvedConfig {
  const seen = new Map<string, number>();
  const sources: ResolvedSource[] = config.sources.map((entry, index) => {
    const { kind, name = kind, timeout, ...options } = entry;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      const field = ['sources', index, entry.name === undefined ? 'kind' : 'name'];
      throw new ConfigError(
        `${locate(doc, lines, file, field)}: ${fieldName(field)}: duplicate source name "${name}" (also sources[${earlier}]; give each source a unique name)`,
      );
    }
    seen.set(name, index);
    const definition = definitions.find((d) => d.kind === kind)!;
    return { name, definition, timeoutMs: timeout ?? config.global.sourceTimeout, options };
  });
  return { file, global: config.global, telemetry: config.telemetry, sources };
}
