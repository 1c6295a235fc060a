import { builtinSources } from '../sources/registry.ts';
import { parseConfig } from './load.ts';
import type { ResolvedConfig } from './resolved.ts';

/** What runs without `--config.file`: the demo source with every global default. */
export function defaultConfig(): ResolvedConfig {
  return { ...parseConfig('sources: [{ kind: demo }]', '(built-in default)', builtinSources), file: undefined };
}
