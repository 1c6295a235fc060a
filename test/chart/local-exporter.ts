// Starts the built exporter (dist/main.js) with the arguments and plain environment variables the chart's
// Deployment passes, on a loopback port instead of the pod's, with the rendered ConfigMap as its config file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServingCli, serveCli } from '../support/cli.ts';
import type { Manifest } from '../support/helm.ts';
import { exporterContainer } from './k8s.ts';

export interface ChartExporter extends ServingCli {
  readonly args: string[];
  stop(): Promise<void>;
}

export async function startChartExporter(manifests: Manifest[]): Promise<ChartExporter> {
  const deployment = manifests.find((m) => m.kind === 'Deployment');
  if (!deployment) throw new Error('no Deployment rendered');
  const configMap = manifests.find((m) => m.kind === 'ConfigMap') as unknown as { data: Record<string, string> } | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'chart-exporter-'));
  const args: string[] = [];
  for (const arg of exporterContainer(deployment).args ?? []) {
    // serveCli picks the address and the (JSON) log format it reads the listening address from.
    if (arg.startsWith('--web.listen-address=') || arg.startsWith('--log.format=')) continue;
    if (arg.startsWith('--config.file=')) {
      const file = join(dir, 'config.yaml');
      const yaml = configMap?.data['config.yaml'];
      if (yaml === undefined) throw new Error('--config.file is passed but no ConfigMap was rendered');
      await writeFile(file, yaml);
      args.push(`--config.file=${file}`);
      continue;
    }
    args.push(arg);
  }
  let exporter: ServingCli;
  try {
    const container = exporterContainer(deployment);
    const env = Object.fromEntries((container.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
    exporter = await serveCli(args, { env });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...exporter,
    args,
    async stop() {
      exporter.signal('SIGTERM');
      await exporter.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
