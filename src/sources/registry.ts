import { demoSource } from './demo.ts';
import { httpSource } from './http.ts';
import type { SourceDefinition } from './source.ts';

/** Every source kind the config may name. To add one: write `src/sources/<kind>.ts` and list it here. */
export const builtinSources: readonly SourceDefinition[] = [demoSource, httpSource];
