// What the Prometheus Operator makes of the chart's ServiceMonitor, as a plain Prometheus scrape config
// aimed at one address: the endpoint's port is resolved through the Service to the pod's container
// port, and the labels the Operator's Kubernetes discovery would attach are added as static labels.
import type { Manifest } from '../support/helm.ts';
import type { ScrapeConfig } from '../support/prometheus.ts';
import { exporterContainer } from './k8s.ts';

interface Relabeling {
  [key: string]: unknown;
}
interface Endpoint {
  port: string;
  path?: string;
  scheme?: string;
  interval?: string;
  scrapeTimeout?: string;
  honorLabels?: boolean;
  params?: Record<string, string[]>;
  relabelings?: Relabeling[];
  metricRelabelings?: Relabeling[];
}
interface MonitorView {
  metadata: { name: string; namespace: string };
  spec: { endpoints: Endpoint[]; sampleLimit?: number; jobLabel?: string };
}
interface ServiceView {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { ports: { name: string; port: number; targetPort: string | number }[] };
}

const relabelKeys: Record<string, string> = {
  sourceLabels: 'source_labels',
  separator: 'separator',
  targetLabel: 'target_label',
  regex: 'regex',
  modulus: 'modulus',
  replacement: 'replacement',
  action: 'action',
};

/** An Operator RelabelConfig (camelCase) as a Prometheus relabel_config (snake_case). */
export function toRelabelConfig(relabeling: Relabeling): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(relabeling)) {
    const mapped = relabelKeys[key];
    if (!mapped) throw new Error(`relabeling field ${key} has no Prometheus equivalent here`);
    out[mapped] = value;
  }
  return out;
}

export interface ResolvedEndpoint {
  /** The container port the Operator's scrape would reach (through Service port → targetPort). */
  containerPort: number;
  scrapeConfig: ScrapeConfig;
}

/** Resolves endpoint `index` of the ServiceMonitor and builds its scrape config for `target` (host:port). */
export function scrapeConfigFor(manifests: Manifest[], target: string, index = 0): ResolvedEndpoint {
  const monitor = manifests.find((m) => m.kind === 'ServiceMonitor') as unknown as MonitorView | undefined;
  const service = manifests.find((m) => m.kind === 'Service') as unknown as ServiceView | undefined;
  const deployment = manifests.find((m) => m.kind === 'Deployment');
  if (!monitor || !service || !deployment) throw new Error('needs a ServiceMonitor, a Service and a Deployment');
  const endpoint = monitor.spec.endpoints[index];
  if (!endpoint) throw new Error(`ServiceMonitor has no endpoint ${index}`);

  const servicePort = service.spec.ports.find((p) => p.name === endpoint.port);
  if (!servicePort) throw new Error(`ServiceMonitor port ${endpoint.port} is not a Service port`);
  const containerPort = exporterContainer(deployment).ports?.find(
    (p) => p.name === servicePort.targetPort || p.containerPort === servicePort.targetPort,
  );
  if (!containerPort) throw new Error(`Service targetPort ${servicePort.targetPort} is not a container port`);

  const job = monitor.spec.jobLabel ? service.metadata.labels[monitor.spec.jobLabel] : service.metadata.name;
  const staticConfig = {
    targets: [target],
    labels: {
      job: job ?? service.metadata.name,
      namespace: service.metadata.namespace,
      service: service.metadata.name,
      endpoint: endpoint.port,
      pod: `${deployment.metadata.name}-local`,
      container: 'exporter',
    },
  };
  const scrapeConfig: ScrapeConfig = {
    job_name: `serviceMonitor/${monitor.metadata.namespace}/${monitor.metadata.name}/${index}`,
    honor_labels: endpoint.honorLabels ?? false,
    metrics_path: endpoint.path ?? '/metrics',
    scheme: endpoint.scheme ?? 'http',
    ...(endpoint.params ? { params: endpoint.params } : {}),
    ...(endpoint.interval ? { scrape_interval: endpoint.interval } : {}),
    ...(endpoint.scrapeTimeout ? { scrape_timeout: endpoint.scrapeTimeout } : {}),
    ...(monitor.spec.sampleLimit ? { sample_limit: monitor.spec.sampleLimit } : {}),
    static_configs: [staticConfig],
    relabel_configs: (endpoint.relabelings ?? []).map(toRelabelConfig),
    metric_relabel_configs: (endpoint.metricRelabelings ?? []).map(toRelabelConfig),
  };
  return { containerPort: containerPort.containerPort, scrapeConfig };
}
