import type { Attributes, AttributeValue } from '@opentelemetry/api';

/**
 * Attribute keys and values as Prometheus labels, by OpenTelemetry's "Prometheus and OpenMetrics Compatibility"
 * rules (OTLP metric points to Prometheus, Metric Attributes): characters outside `[a-zA-Z0-9_]` become `_`, runs
 * of `_` collapse to one (as the SDK's serializer does), a leading digit gets a `key_` prefix, and keys that end
 * up with the same label name share it, their values joined by `;` in the order of the original keys.
 * A key that leaves no name at all (empty) is not a valid attribute and is dropped.
 */

const INVALID = /[^a-zA-Z0-9_]/g;
const UNDERSCORES = /_{2,}/g;
const NEEDS_FIX = /[^a-zA-Z0-9_]|__/;

/** Invalid characters as `_`, runs of `_` as one: what the stock serializer does to metric and label names. */
export function sanitizeName(name: string): string {
  return NEEDS_FIX.test(name) ? name.replace(INVALID, '_').replace(UNDERSCORES, '_') : name;
}

/** The label name for an attribute key; '' when the key yields none. */
export function labelName(key: string): string {
  const name = sanitizeName(key);
  const first = name.charCodeAt(0);
  return first >= 48 && first <= 57 ? `key_${name}` : name;
}

/**
 * Label names the writer adds itself (`le` of histogram buckets, the `otel_scope_*` labels): an attribute that
 * would take one is written as `exported_<name>`, Prometheus' own way of keeping a clashing label.
 */
export type ReservedLabels = ReadonlySet<string>;

/**
 * The label text of an attribute set (`a="1",b="2"`, no braces) with names sanitised and colliding keys merged.
 * The order is the attribute set's own (a merged label sits where its first key was), so valid input is written
 * exactly as the SDK's serializer writes it.
 */
export function labelText(attributes: Attributes, reserved: ReservedLabels, names: (key: string) => string): string {
  const { labels, values } = labelPairs(attributes, reserved, names);
  const parts = new Array<string>(labels.length);
  for (let i = 0; i < labels.length; i++) parts[i] = `${labels[i]}="${escapeLabelValue(values[i]!)}"`;
  // join() writes one flat string; a kept text built with += would stay a rope of small pieces (more memory).
  return parts.join(',');
}

/** The labels of an attribute set as names and (unescaped) values, by the rules and in the order of labelText. */
export function labelPairs(
  attributes: Attributes,
  reserved: ReservedLabels,
  names: (key: string) => string,
): { readonly labels: string[]; readonly values: string[] } {
  const labels: string[] = [];
  const keys: string[] = [];
  // Where each label is, once a set is too large for indexOf to stay cheap (a set may have any number of keys).
  let positions: Map<string, number> | undefined;
  let merged: Map<string, string[]> | undefined;
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    let name = names(key);
    if (name === '') continue;
    if (reserved.has(name)) name = `exported_${name}`;
    if (positions === undefined && labels.length >= 16) positions = new Map(labels.map((label, i) => [label, i]));
    const at = positions === undefined ? labels.indexOf(name) : (positions.get(name) ?? -1);
    if (at === -1) {
      positions?.set(name, labels.length);
      labels.push(name);
      keys.push(key);
    } else {
      merged ??= new Map();
      let group = merged.get(name);
      if (group === undefined) {
        group = [keys[at]!];
        merged.set(name, group);
      }
      group.push(key);
    }
  }
  const values = new Array<string>(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const group = merged?.get(labels[i]!);
    values[i] =
      group === undefined
        ? attributeText(attributes[keys[i]!])
        : group
            .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
            .map((key) => attributeText(attributes[key]))
            .join(';');
  }
  return { labels, values };
}

/**
 * An attribute value as label text: strings as they are, others JSON-encoded (as the SDK does; the spec asks for
 * the attribute specification's string form). A value that cannot be encoded is empty rather than an error that
 * would fail the whole exposition.
 */
function attributeText(value: AttributeValue | undefined): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

const TEXT_SPECIAL = /[\\\n]/;
const LABEL_SPECIAL = /[\\\n"]/;

/** HELP and UNIT text: backslash and newline escaped. */
export function escapeText(text: string): string {
  return TEXT_SPECIAL.test(text) ? text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : text;
}

/** A label value: backslash, newline and double quote escaped. */
export function escapeLabelValue(text: string): string {
  return LABEL_SPECIAL.test(text) ? text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : text;
}
