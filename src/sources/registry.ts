import { commandSource } from './command.ts';
import { demoSource } from './demo.ts';
import { fileSource } from './file.ts';
import { httpSource } from './http.ts';
import type { SourceDefinition } from './source.ts';
import { sqlSource } from './sql/index.ts';
import { textfileSource } from './textfile.ts';

/** Every source kind the config may name. To add one: write `src/sources/<kind>.ts` and list it here. */
export const builtinSources: readonly SourceDefinition[] = [demoSource, httpSource, commandSource, fileSource, textfileSource, sqlSource];
