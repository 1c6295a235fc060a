import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

/**
 * Gives back the memory V8 grew into while the exporter started. Loading the modules grows the young generation
 * to its largest size (32 MiB), which then stays committed though empty: ~18 MiB of an idle exporter's RSS
 * (bench/RESULTS.md). One full, memory-reducing collection returns it. Node has no API for that, so V8's gc()
 * is exposed to a throwaway context for this one call and the flag is turned off again.
 */
export function releaseStartupMemory(): void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as Gc | undefined;
    setFlagsFromString('--no-expose-gc');
    gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  } catch {
    // Not available in this runtime: nothing is released, nothing else changes.
  }
}
