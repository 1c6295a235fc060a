// Typed views of the few rendered fields the wiring tests read.
import type { Manifest } from '../support/helm.ts';

export interface ContainerView {
  name: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path?: string; port?: string | number } };
  readinessProbe?: { httpGet?: { path?: string; port?: string | number } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpecView {
  containers: ContainerView[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; configMap?: { name: string } }[];
}

export interface PodTemplateView {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpecView;
}

export function podTemplate(deployment: Manifest): PodTemplateView {
  return (deployment as unknown as { spec: { template: PodTemplateView } }).spec.template;
}

export function podSpecOf(pod: Manifest): PodSpecView {
  return (pod as unknown as { spec: PodSpecView }).spec;
}

export function exporterContainer(deployment: Manifest): ContainerView {
  const container = podTemplate(deployment).spec.containers.find((c) => c.name === 'exporter');
  if (!container) throw new Error('no container named exporter');
  return container;
}

/** The value of `--flag=value` in an argument list (last one wins, as in the exporter's parser). */
export function flag(args: readonly string[], name: string): string | undefined {
  return args
    .filter((a) => a.startsWith(`${name}=`))
    .map((a) => a.slice(name.length + 1))
    .pop();
}

/** Whether a selector's matchLabels all appear in the labels. */
export function selects(matchLabels: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(matchLabels).every(([key, value]) => labels?.[key] === value);
}
