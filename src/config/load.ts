import { dirname, resolve } from 'node:path';
import { type Document, isSeq } from 'yaml';
import type { AllowlistConfig } from '../probe/allowlist.ts';
import type { ProbeSettings } from '../probe/module-schema.ts';
import { settleWithin, TimeoutExceededError } from '../settle-within.ts';
import { importSourceModule, MODULE_KIND } from '../sources/module.ts';
import { type OptionsContext, optionsSchema, type SourceDefinition } from '../sources/source.ts';
import { sqlModuleProblem } from '../sources/sql/probe-target.ts';
import { histogramAggregations } from './histogram-aggregations.ts';
import { readConfigText } from './read-config-file.ts';
import type { CollectionPolicy, ResolvedConfig, ResolvedModule, ResolvedSource } from './resolved.ts';
import { type Config, configSchema, type SourceEntry } from './schema.ts';
import { ConfigError, describeIssues, type FieldPath, fieldName, type Locate, parseYaml } from './yaml-document.ts';

export { ConfigError };

/** Reads, validates and resolves a config file, loading the files of its `kind: module` sources. */
export async function loadConfigFile(file: string, definitions: readonly SourceDefinition[]): Promise<ResolvedConfig> {
  return resolveConfig(readConfigText(file), file, definitions);
}

/** Most sources one config file may list; checked before they are validated (issue 11). */
const MAX_SOURCES = 1000;

/** Validates config text; `kind: module` sources have their file imported and their options checked by its schema. */
async function resolveConfig(text: string, file: string, definitions: readonly SourceDefinition[]): Promise<ResolvedConfig> {
  const context = optionsContext(file);
  const { config, locate } = validate(text, file, definitions, context);
  const problems: string[] = [];
  const resolveAll = (section: Section) =>
    Promise.all(
      config[section].map(async (entry, index) => {
        try {
          return entry.kind === MODULE_KIND
            ? await resolveModule(entry, [section, index], config, context, locate)
            : resolveBuiltin(entry, [section, index], config, definitions, locate);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          problems.push(...err.problems);
          return undefined;
        }
      }),
    );
  const sources = await resolveAll('sources');
  const modules = await resolveAll('modules');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    file,
    global: config.global,
    telemetry: config.telemetry,
    sources: sources as ResolvedSource[],
    modules: probeModules(config.modules, modules as ResolvedSource[], locate),
  };
}

type Section = 'sources' | 'modules';
type EntryPath = readonly [Section, number];

/** Validates config text whose sources are all built-in kinds (no `kind: module`, which needs resolveConfig). */
export function parseConfig(text: string, file: string, definitions: readonly SourceDefinition[]): ResolvedConfig {
  const { config, locate } = validate(text, file, definitions, optionsContext(file));
  const sources = config.sources.map((entry, index) => {
    if (entry.kind === MODULE_KIND)
      fail(locate, ['sources', index, 'kind'], 'module sources need their file loaded (resolveConfig or loadConfigFile)');
    return resolveBuiltin(entry, ['sources', index], config, definitions, locate);
  });
  const modules = config.modules.map((entry, index) => {
    if (entry.kind === MODULE_KIND)
      fail(locate, ['modules', index, 'kind'], 'module sources need their file loaded (resolveConfig or loadConfigFile)');
    return resolveBuiltin(entry, ['modules', index], config, definitions, locate);
  });
  return { file, global: config.global, telemetry: config.telemetry, sources, modules: probeModules(config.modules, modules, locate) };
}

function validate(
  text: string,
  file: string,
  definitions: readonly SourceDefinition[],
  context: OptionsContext,
): { config: Config; locate: Locate } {
  const { data, locate } = parseYaml(text, file, configSchema(definitions, context), limitSources);
  const config = data as Config;
  const seen = new Map<string, number>();
  config.sources.forEach((entry, index) => {
    const name = entry.name ?? entry.kind;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      const field = ['sources', index, entry.name === undefined ? 'kind' : 'name'];
      fail(locate, field, `duplicate source name "${name}" (also sources[${earlier}]; give each source a unique name)`);
    }
    seen.set(name, index);
  });
  const modules = new Map<string, number>();
  config.modules.forEach((entry, index) => {
    const name = entry.name ?? entry.kind;
    const earlier = modules.get(name);
    if (earlier !== undefined) {
      const field = ['modules', index, entry.name === undefined ? 'kind' : 'name'];
      fail(locate, field, `duplicate module name "${name}" (also modules[${earlier}]; /probe?module= names one)`);
    }
    modules.set(name, index);
  });
  return { config, locate };
}

// Validating hundreds of thousands of sources takes seconds and gigabytes; refuse them first.
function limitSources(doc: Document, locate: Locate): void {
  const sources = doc.get('sources', true);
  if (isSeq(sources) && sources.items.length > MAX_SOURCES) {
    fail(locate, ['sources'], `${sources.items.length} sources; a config file may have at most ${MAX_SOURCES}`);
  }
}

function resolveBuiltin(
  entry: SourceEntry,
  at: EntryPath,
  config: Config,
  definitions: readonly SourceDefinition[],
  locate: Locate,
): ResolvedSource {
  const { kind, name, timeout, mode, minInterval, interval, staleAfter, histograms, probe, allow, ...options } = entry;
  const definition = definitions.find((d) => d.kind === kind)!;
  return { ...common(entry, at, config, locate), definition, options };
}

async function resolveModule(
  entry: SourceEntry,
  at: EntryPath,
  config: Config,
  context: OptionsContext,
  locate: Locate,
): Promise<ResolvedSource> {
  const file = entry.module as string;
  let definition: SourceDefinition;
  try {
    // Its top-level code may await forever: bounded like a setup (issue 11).
    definition = await settleWithin(importSourceModule(file), config.global.setupTimeout, 'its top-level code');
  } catch (err) {
    const reason = `${err instanceof Error ? err.message : String(err)}${err instanceof TimeoutExceededError ? ' (global.setupTimeout)' : ''}`;
    fail(locate, [...at, 'module'], `cannot load source module ${file}: ${reason}`);
  }
  let schema: ReturnType<typeof optionsSchema>;
  try {
    // The module's own code: a function of the config file that may throw or return something else.
    schema = optionsSchema(definition, context);
    if (typeof schema?.safeParse !== 'function') throw new Error('it is not a zod schema');
  } catch (err) {
    fail(locate, [...at, 'module'], `cannot build the options schema of ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = schema.safeParse(entry.options, { reportInput: true });
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error.issues, locate, [...at, 'options']));
  return { ...common(entry, at, config, locate), definition, options: parsed.data, module: file };
}

// Paths in a config file are relative to its directory, as in Prometheus.
function optionsContext(file: string): OptionsContext {
  return { configDir: dirname(resolve(file)) };
}

function common(entry: SourceEntry, at: EntryPath, config: Config, locate: Locate) {
  const timeoutMs = entry.timeout ?? config.global.sourceTimeout;
  return {
    name: entry.name ?? entry.kind,
    timeoutMs,
    setupTimeoutMs: config.global.setupTimeout,
    collection: collectionPolicy(entry, at, timeoutMs, locate),
    histograms: histogramAggregations(config.global.histograms, entry.histograms),
  };
}

function collectionPolicy(entry: SourceEntry, at: EntryPath, timeoutMs: number, locate: Locate): CollectionPolicy {
  const only = (field: string, mode: string) => fail(locate, [...at, field], `only applies to mode: ${mode}`);
  if (entry.mode === 'scrape') {
    if (entry.interval !== undefined) only('interval', 'interval');
    if (entry.staleAfter !== undefined) only('staleAfter', 'interval');
    return { mode: 'scrape', minIntervalMs: entry.minInterval ?? 0 };
  }
  if (entry.minInterval !== undefined) only('minInterval', 'scrape');
  if (entry.interval === undefined) fail(locate, [...at, 'mode'], 'mode: interval needs an interval (such as 30s)');
  // A poll starts every interval and may take up to the timeout; twice the interval on top means two polls were missed.
  const staleAfterMs = entry.staleAfter ?? 2 * entry.interval + timeoutMs;
  return { mode: 'interval', intervalMs: entry.interval, staleAfterMs };
}

/** The kinds a target can be given to: a URL, a command's arguments, a database host, or a module source's own hook. */
const PROBE_KINDS = ['http', 'command', 'sql', MODULE_KIND];

// A module is collected only for one probe, with a fresh start each time: background polling has no meaning there.
function probeModules(entries: readonly SourceEntry[], resolved: readonly ResolvedSource[], locate: Locate): ResolvedModule[] {
  return resolved.map((source, index) => {
    const entry = entries[index]!;
    if (entry.mode !== 'scrape') fail(locate, ['modules', index, 'mode'], 'a module runs once per probe: only mode: scrape applies');
    if (!PROBE_KINDS.includes(entry.kind))
      fail(
        locate,
        ['modules', index, 'kind'],
        `a module is one of: ${PROBE_KINDS.join(', ')} (a target has no place in a ${entry.kind} source)`,
      );
    const settings = entry.probe as ProbeSettings;
    if (settings.target === 'url' && source.definition.kind !== 'http')
      fail(locate, ['modules', index, 'probe', 'target'], 'target: url applies to http modules only');
    const sqlProblem = source.definition.kind === 'sql' ? sqlModuleProblem(source.options) : undefined;
    if (sqlProblem) fail(locate, ['modules', index, ...sqlProblem[0]], sqlProblem[1]);
    if (source.definition.kind === 'http' && typeof source.options.url !== 'string')
      fail(locate, ['modules', index, 'url'], 'an http module needs a plain url (not a secret): the target is written into it');
    return { source, probe: settings, allow: entry.allow as AllowlistConfig };
  });
}

function fail(locate: Locate, field: FieldPath, reason: string): never {
  throw new ConfigError(`${locate(field)}: ${fieldName(field)}: ${reason}`);
}
