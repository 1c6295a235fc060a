import { readFile } from 'node:fs/promises';
import type { SourceDefinition } from '../sources/source.ts';
import { configSchema, type Config } from './schema.ts';
import type { ResolvedConfig, ResolvedSource } from './resolved.ts';
import { ConfigError, fieldName, parseYaml, type Locate } from './yaml-document.ts';

export { ConfigError };

export async function loadConfigFile(file: string, definitions: readonly SourceDefinition[]): Promise<ResolvedConfig> {
  return parseConfig(await readConfigFile(file), file, definitions);
}

/** The text of a config file, or a ConfigError naming the file. */
export async function readConfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file: ${(err as NodeJS.ErrnoException).message}`);
  }
}

export function parseConfig(text: string, file: string, definitions: readonly SourceDefinition[]): ResolvedConfig {
  const { data, locate } = parseYaml(text, file, configSchema(definitions));
  return resolve(data as Config, definitions, file, locate);
}

function resolve(config: Config, definitions: readonly SourceDefinition[], file: string, locate: Locate): ResolvedConfig {
  const seen = new Map<string, number>();
  const sources: ResolvedSource[] = config.sources.map((entry, index) => {
    const { kind, name = kind, timeout, ...options } = entry;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      const field = ['sources', index, entry.name === undefined ? 'kind' : 'name'];
      throw new ConfigError(
        `${locate(field)}: ${fieldName(field)}: duplicate source name "${name}" (also sources[${earlier}]; give each source a unique name)`,
      );
    }
    seen.set(name, index);
    const definition = definitions.find((d) => d.kind === kind)!;
    return { name, definition, timeoutMs: timeout ?? config.global.sourceTimeout, options };
  });
  return { file, global: config.global, telemetry: config.telemetry, sources };
}
