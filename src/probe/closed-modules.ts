import type { ResolvedModule } from '../config/resolved.ts';
import { Allowlist } from './allowlist.ts';

/**
 * A warning for each module without `allow:`: valid (nothing is allowed unless listed, issue 13), but every probe of
 * it is a 403, which is rarely what the author meant.
 */
export function closedModuleWarnings(file: string, modules: readonly ResolvedModule[]): string[] {
  return modules.flatMap((m, i) =>
    new Allowlist(m.allow).empty
      ? [`${file}: modules[${i}].allow: module ${JSON.stringify(m.source.name)} has no allow: it refuses every target`]
      : [],
  );
}
