import { CollectionError } from './collection-error.ts';
import { sampleKeys, type TextFamily } from './untrusted/prometheus-text-parser.ts';

/** Families of several files, merged as node_exporter merges them: a whole file is merged, or none of it. */
export class MergedFamilies {
  readonly #seriesLimit: number;
  readonly #families = new Map<string, { family: TextFamily; file: string }>();
  // Every sample (name and labels) merged so far, by the file it came from; and each family's series.
  readonly #samples = new Map<string, string>();
  readonly #series = new Map<string, Set<string>>();

  constructor(seriesLimit: number) {
    this.#seriesLimit = seriesLimit;
  }

  /** Merges `families` read from `file`; throws, merging nothing, when they conflict with what is merged. */
  add(file: string, families: readonly TextFamily[]): void {
    const samples = new Map<string, string>();
    const series = new Map<string, Set<string>>();
    for (const family of families) {
      const known = this.#families.get(family.name);
      if (known !== undefined) {
        // A HELP or unit one file leaves out is taken from another; a type is always given (untyped by default).
        for (const field of ['type', 'help', 'unit'] as const) {
          const [mine, theirs] = [family[field], known.family[field]];
          if (mine !== theirs && (field === 'type' || (mine !== '' && theirs !== ''))) {
            throw new CollectionError(
              'parse',
              `${file}: the ${field} of ${family.name} is ${JSON.stringify(mine)}, in ${known.file} ${JSON.stringify(theirs)}`,
            );
          }
        }
      }
      const familySeries = new Set(this.#series.get(family.name));
      for (const sample of family.samples) {
        const { sample: sampleKey, series: seriesKey } = sampleKeys(sample.suffix, sample.labels);
        // Family names are metric names: no NUL in them.
        const key = `${family.name}\u0000${sampleKey}`;
        const other = this.#samples.get(key);
        if (other !== undefined)
          throw new CollectionError('duplicate', `${file}: ${family.name}${sample.suffix} with the same labels is also in ${other}`);
        samples.set(key, file);
        familySeries.add(seriesKey);
      }
      if (familySeries.size > this.#seriesLimit) {
        throw new CollectionError('series_limit', `${file}: ${family.name} has more than ${this.#seriesLimit} series in all files`);
      }
      series.set(family.name, familySeries);
    }
    for (const [key, from] of samples) this.#samples.set(key, from);
    for (const [familyName, keys] of series) this.#series.set(familyName, keys);
    for (const family of families) {
      const known = this.#families.get(family.name);
      if (known === undefined) {
        this.#families.set(family.name, { family: { ...family, samples: [...family.samples] }, file });
        continue;
      }
      known.family.help ||= family.help;
      known.family.unit ||= family.unit;
      for (const sample of family.samples) known.family.samples.push(sample);
    }
  }

  families(): TextFamily[] {
    return [...this.#families.values()].map((f) => f.family);
  }
}
