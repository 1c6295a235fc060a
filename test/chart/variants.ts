// The values variants every chart test covers: the chart's defaults and each ci/*-values.yaml
// (the files chart-testing installs one by one).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chartDir, type Manifest, render } from '../support/helm.ts';

export interface Variant {
  readonly name: string;
  readonly valuesFiles: string[];
}

const ciDir = join(chartDir, 'ci');

export const variants: readonly Variant[] = [
  { name: 'values.yaml', valuesFiles: [] },
  ...readdirSync(ciDir)
    .filter((file) => file.endsWith('-values.yaml'))
    .sort()
    .map((file) => ({ name: `ci/${file}`, valuesFiles: [join(ciDir, file)] })),
];

export function renderVariant(variant: Variant): Promise<Manifest[]> {
  return render({ valuesFiles: variant.valuesFiles });
}

/** Object lookup by kind; undefined when the variant does not render it. */
export function find(manifests: Manifest[], kind: string): Manifest | undefined {
  return manifests.find((m) => m.kind === kind);
}
