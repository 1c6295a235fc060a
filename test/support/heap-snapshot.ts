// Counts the live objects of a V8 heap snapshot (.heapsnapshot, as written by --heapsnapshot-signal) by
// constructor, to check that per-request objects do not accumulate in the real exporter.
import { readFileSync } from 'node:fs';

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[], ...unknown[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

/** How many objects of each constructor (a class instance's node is named after its class) the snapshot holds. */
export function objectsByConstructor(file: string): Map<string, number> {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const typeField = fields.indexOf('type');
  const nameField = fields.indexOf('name');
  const objectType = snapshot.meta.node_types[0].indexOf('object');
  const counts = new Map<string, number>();
  for (let i = 0; i < nodes.length; i += fields.length) {
    if (nodes[i + typeField] !== objectType) continue;
    const name = strings[nodes[i + nameField]!]!;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}
