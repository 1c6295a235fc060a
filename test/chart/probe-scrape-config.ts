// What the Prometheus Operator makes of a rendered Probe with static targets, as a plain Prometheus scrape
// config: metrics_path = prober.path, params.module, each target → ?target= and `instance`, and the scrape
// sent to the prober (here the local exporter standing in for the chart's Service). Follows the Operator's
// generateProbeConfig (pkg/prometheus/promcfg.go): those three relabelings come before the Probe's own.
import type { Manifest } from '../support/helm.ts';
import type { ScrapeConfig } from '../support/prometheus.ts';
import { toRelabelConfig } from './scrape-config.ts';

interface ProbeView {
  metadata: { name: string; namespace: string };
  spec: {
    jobName?: string;
    module: string;
    prober: { url: string; path?: string; scheme?: string };
    interval?: string;
    scrapeTimeout?: string;
    targets: { staticConfig: { static: string[]; labels?: Record<string, string>; relabelingConfigs?: Record<string, unknown>[] } };
    metricRelabelings?: Record<string, unknown>[];
  };
}

/** The scrape config of `probe`, with its prober URL replaced by `proberAddress` (host:port). */
export function probeScrapeConfig(probe: Manifest, proberAddress: string): { proberUrl: string; scrapeConfig: ScrapeConfig } {
  const { metadata, spec } = probe as unknown as ProbeView;
  const staticConfig = spec.targets.staticConfig;
  const scrapeConfig: ScrapeConfig = {
    job_name: `probe/${metadata.namespace}/${metadata.name}`,
    metrics_path: spec.prober.path ?? '/probe',
    scheme: spec.prober.scheme ?? 'http',
    params: { module: [spec.module] },
    ...(spec.interval ? { scrape_interval: spec.interval } : {}),
    ...(spec.scrapeTimeout ? { scrape_timeout: spec.scrapeTimeout } : {}),
    static_configs: [
      {
        targets: staticConfig.static,
        labels: { namespace: metadata.namespace, ...(spec.jobName ? { job: spec.jobName } : {}), ...staticConfig.labels },
      },
    ],
    relabel_configs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: proberAddress },
      ...(staticConfig.relabelingConfigs ?? []).map(toRelabelConfig),
    ],
    metric_relabel_configs: (spec.metricRelabelings ?? []).map(toRelabelConfig),
  };
  return { proberUrl: spec.prober.url, scrapeConfig };
}
