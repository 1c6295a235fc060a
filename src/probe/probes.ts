import { performance } from 'node:perf_hooks';
import { ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { RunningSource } from '../collector/running-source.ts';
import { SourceCollector } from '../collector/source-collector.ts';
import type { ResolvedModule } from '../config/resolved.ts';
import type { ExpositionFormat } from '../exposition/format.ts';
import type { PrometheusTextOptions } from '../exposition/prometheus-text.ts';
import { Writers } from '../exposition/writers.ts';
import type { Logger } from '../logging.ts';
import { NAME, VERSION } from '../version.ts';
import { Allowlist, type RefusalReason } from './allowlist.ts';
import { BadProbeError, checkTargetShape, probeOptions } from './probe-options.ts';
import { describeAllowlist, type ModuleStatus, RecentProbes } from './recent-probes.ts';

export interface ProbesOptions {
  readonly logger: Logger;
  /** Most series one instrument may observe in one probe (global.seriesLimit). */
  readonly seriesLimit: number;
  readonly text: PrometheusTextOptions;
  /** custom_exporter_probes_total. */
  readonly countProbe: (module: string, success: boolean) => void;
  /** custom_exporter_probe_refused_total. */
  readonly countProbeRefused: (module: string, reason: RefusalReason) => void;
}

/** What one GET /probe gets: the probe's metrics in the format, or a status and a one-line reason. */
export type ProbeAnswer =
  | { readonly status: 200; readonly format: ExpositionFormat; readonly body: Buffer }
  | { readonly status: 400 | 403; readonly reason: string };

interface Module {
  readonly config: ResolvedModule;
  readonly allowlist: Allowlist;
}

/**
 * The config's `modules`, run one probe at a time by GET /probe: each probe starts the module's source afresh with
 * its target, collects it once on its own (nothing is shared with /metrics or with other probes) and stops it,
 * then writes its metrics with probe_success and probe_duration_seconds, as blackbox_exporter does.
 */
export class Probes {
  #modules = new Map<string, Module>();
  readonly #options: ProbesOptions;
  readonly #writers: Writers;
  readonly #recent = new RecentProbes();

  constructor(modules: readonly ResolvedModule[], options: ProbesOptions) {
    // A down target is an answer (probe_success 0), not a problem of the exporter: its failed collections, logged
    // at warn on every probe, would flood the log. They are logged at --log.level=debug.
    const { logger } = options;
    this.#options = { ...options, logger: logger.child({}, { level: logger.level === 'debug' ? 'debug' : 'error' }) };
    this.#writers = new Writers(options.text);
    this.setModules(modules);
  }

  /** The modules of a reloaded config. */
  setModules(modules: readonly ResolvedModule[]): void {
    this.#modules = new Map(modules.map((m) => [m.source.name, { config: m, allowlist: new Allowlist(m.allow) }]));
    this.#recent.keepOnly(new Set(this.#modules.keys()));
  }

  /** The modules, their allowlists and recent probes, for the landing page. */
  status(): ModuleStatus[] {
    return [...this.#modules.values()].map(({ config }) => ({
      name: config.source.name,
      allows: describeAllowlist(config.allow),
      recent: this.#recent.of(config.source.name),
    }));
  }

  /** One probe of `target` by the module `name`, within `timeoutMs`; `query` holds every other query parameter. */
  async run(
    name: string,
    target: string,
    query: Readonly<Record<string, string>>,
    timeoutMs: number,
    format: ExpositionFormat,
  ): Promise<ProbeAnswer> {
    const module = this.#modules.get(name);
    if (!module) return { status: 400, reason: `unknown module ${JSON.stringify(name)}` };
    try {
      checkTargetShape(module.config, target);
    } catch (err) {
      if (err instanceof BadProbeError) return { status: 400, reason: err.message };
      throw err;
    }
    const verdict = module.allowlist.checkTarget(target);
    if (!verdict.allowed) {
      this.#options.countProbeRefused(name, 'target');
      this.#recent.add(name, { target, outcome: 'refused', durationSeconds: 0, time: new Date(), error: verdict.reason });
      return { status: 403, reason: `target refused by module ${name}: ${verdict.reason}` };
    }
    const params = Object.fromEntries(module.config.probe.params.flatMap((p) => (query[p] === undefined ? [] : [[p, query[p]]])));
    let options: Record<string, unknown>;
    try {
      options = probeOptions(module.config, target, params);
    } catch (err) {
      if (err instanceof BadProbeError) return { status: 400, reason: err.message };
      throw err;
    }
    const metrics = await this.#probe(module, target, options, timeoutMs);
    const writer = await this.#writers.get(format);
    return { status: 200, format, body: writer.serialize(metrics) };
  }

  async #probe(
    { config: module, allowlist }: Module,
    target: string,
    options: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<ResourceMetrics> {
    const { logger, seriesLimit } = this.#options;
    const started = performance.now();
    const deadline = started + timeoutMs;
    const collector = new SourceCollector({ defaultTimeoutMs: timeoutMs, logger, selfScope: { name: NAME, version: VERSION } });
    let running: RunningSource | undefined;
    let success = false;
    let error: string | undefined;
    let scopeMetrics: ScopeMetrics[] = [];
    try {
      // The setup (an OAuth2 token, a module's connection) is part of the probe: it shares the probe's budget.
      const source = { ...module.source, options, setupTimeoutMs: Math.max(1, Math.round(timeoutMs)) };
      // The target itself passed checkTarget: a refused first connection is what its name resolved to, a later
      // one a redirect's.
      let connections = 0;
      const allowConnection = (url: URL, addresses: readonly string[]) => {
        const verdict = allowlist.checkConnection(url, addresses);
        if (!verdict.allowed) this.#options.countProbeRefused(module.source.name, connections === 0 ? 'dns' : 'redirect');
        connections++;
        return verdict;
      };
      running = await RunningSource.start(source, { logger, seriesLimit, allowConnection });
      collector.setSources([running]);
      const collected = await collector.collect({ timeoutMillis: Math.max(1, deadline - performance.now()) });
      scopeMetrics = collected.resourceMetrics.scopeMetrics;
      const status = collector.status()[0];
      success = status?.up === true;
      error = status?.lastError;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      logger.warn({ module: module.source.name, err: err instanceof Error ? err.message : String(err) }, 'probe failed');
    } finally {
      running?.stop();
    }
    this.#options.countProbe(module.source.name, success);
    const now = Date.now();
    const seconds = (performance.now() - started) / 1000;
    this.#recent.add(module.source.name, {
      target,
      outcome: success ? 'success' : 'failure',
      durationSeconds: seconds,
      time: new Date(now),
      error,
    });
    const probeScope = {
      scope: { name: NAME, version: VERSION },
      metrics: [probeGauge(PROBE_SUCCESS, success ? 1 : 0, now), probeGauge(PROBE_DURATION, seconds, now)],
    };
    return { resource: emptyResource(), scopeMetrics: [...scopeMetrics, probeScope] };
  }
}

// The names blackbox_exporter gives them, so dashboards and alerts made for it work unchanged.
const PROBE_SUCCESS = { name: 'probe_success', description: 'Whether the probe succeeded (1) or not (0)', unit: '' };
const PROBE_DURATION = { name: 'probe_duration_seconds', description: 'How long the probe took', unit: 's' };

function probeGauge(descriptor: { name: string; description: string; unit: string }, value: number, now: number): MetricData {
  const time = millisToHrTime(now);
  return {
    descriptor: { ...descriptor, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: [{ startTime: time, endTime: time, attributes: {}, value }],
  };
}
