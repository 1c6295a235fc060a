import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** A family's Prometheus type; exponential histograms are histograms (classic buckets in text, native in protobuf). */
export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'untyped';

type Scope = ResourceMetrics['scopeMetrics'][number]['scope'];

interface FamilyMember<ScopeLabels> {
  readonly metric: MetricData;
  /** The scope's `otel_scope_*` labels as the writer writes them. */
  readonly scopeLabels: ScopeLabels;
  /** The metric's scope and name: where a writer keeps what it wrote for the metric last time. */
  readonly key: string;
}

/** The metrics written under one name, merged across scopes in first-seen order. */
export interface Family<ScopeLabels> {
  help: string;
  unit: string;
  readonly type: FamilyType;
  /** Not written: it conflicts with another family (a warning says why). */
  dropped: boolean;
  readonly members: FamilyMember<ScopeLabels>[];
}

export interface FamilyRules<ScopeLabels> {
  /** `target_info` is the resource: its family is reserved, first. */
  readonly targetInfo: boolean;
  /** The family name of a metric of `scope` in this format; undefined when it has none. */
  name(metric: MetricData, scope: Scope): string | undefined;
  scopeLabels(scope: Scope): ScopeLabels;
  /**
   * A conflict found: the family `name` is dropped (`kept` undefined) or keeps `kept` of two values. Called at
   * every serialization the conflict lasts: the writer decides how often to warn.
   */
  conflict(kind: 'TYPE' | 'HELP' | 'UNIT', name: string, first: string, second: string, kept: string | undefined): void;
  /** The format's own clashes between families (OpenMetrics' suffixes), before HELP and UNIT are settled. */
  clashes?(families: Map<string, Family<ScopeLabels>>): void;
}

const HISTOGRAM_SUFFIXES = ['_count', '_sum', '_bucket'];

/**
 * The families of one collection, by the rules every format shares (as the SDK's PrometheusSerializer has them):
 * metrics of one name are one family, in first-seen order; a name with two types is dropped; a family named like
 * a histogram's `_count`, `_sum` or `_bucket` series is dropped; HELP and UNIT are the first non-empty ones.
 */
export function groupFamilies<ScopeLabels>(
  resourceMetrics: ResourceMetrics,
  rules: FamilyRules<ScopeLabels>,
): Map<string, Family<ScopeLabels>> {
  const families = new Map<string, Family<ScopeLabels>>();
  if (rules.targetInfo) families.set('target_info', { help: 'Target metadata', unit: '', type: 'gauge', dropped: false, members: [] });
  for (const { scope, metrics } of resourceMetrics.scopeMetrics) {
    const scopeKey = `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}\u0000`;
    const scopeLabels = rules.scopeLabels(scope);
    for (const metric of metrics) {
      const name = rules.name(metric, scope);
      if (name === undefined) continue;
      const type = familyType(metric);
      const member = { metric, scopeLabels, key: scopeKey + metric.descriptor.name };
      const family = families.get(name);
      if (family === undefined) {
        const { description: help, unit } = metric.descriptor;
        families.set(name, { help, unit, type, dropped: false, members: [member] });
      } else if (!family.dropped) {
        if (family.type !== type) {
          rules.conflict('TYPE', name, family.type, type, undefined);
          family.dropped = true;
          family.members.length = 0;
        } else {
          family.members.push(member);
        }
      }
    }
  }
  // A histogram family h writes h_count, h_sum and h_bucket series: a family of one of those names would make a
  // text page unparseable ("second TYPE line for metric name h") and write into the same series in protobuf.
  for (const [name, family] of families) {
    if (family.dropped || family.type !== 'histogram') continue;
    for (const suffix of HISTOGRAM_SUFFIXES) {
      const other = families.get(name + suffix);
      if (other === undefined || other.dropped) continue;
      rules.conflict('TYPE', name + suffix, `histogram ${name}`, other.type, undefined);
      other.dropped = true;
      other.members.length = 0;
    }
  }
  rules.clashes?.(families);
  // HELP and UNIT: the first non-empty one wins; the first family member's counts as seen already.
  for (const [name, family] of families) {
    if (family.dropped) continue;
    for (const { metric } of family.members) {
      const { description: help, unit } = metric.descriptor;
      if (help) {
        if (!family.help) family.help = help;
        else if (family.help !== help) rules.conflict('HELP', name, family.help, help, family.help);
      }
      if (unit) {
        if (!family.unit) family.unit = unit;
        else if (family.unit !== unit) rules.conflict('UNIT', name, family.unit, unit, family.unit);
      }
    }
  }
  return families;
}

function familyType(metric: MetricData): FamilyType {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return 'histogram';
    default:
      return 'untyped';
  }
}
