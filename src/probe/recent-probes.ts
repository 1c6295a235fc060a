import type { AllowlistConfig } from './allowlist.ts';

/** How many probes the status page keeps per module: enough to see a pattern, bounded whatever the traffic. */
const RECENT_PROBES_PER_MODULE = 20;
/** A target is whatever a client sent: the page shows at most this many characters of it. */
const TARGET_SHOWN_CHARS = 120;
/** An error may quote the target or a whole answer: the page shows at most this many characters of it. */
const ERROR_SHOWN_CHARS = 300;

/** One probe as the landing page shows it (the error text is already redacted by the source). */
export interface RecentProbe {
  readonly target: string;
  /** 'refused': the allowlist turned the target away (403) before anything was contacted. */
  readonly outcome: 'success' | 'failure' | 'refused';
  readonly durationSeconds: number;
  readonly time: Date;
  readonly error: string | undefined;
}

/** A module as the landing page shows it: its allowlist in words and its recent probes, newest first. */
export interface ModuleStatus {
  readonly name: string;
  readonly allows: readonly string[];
  readonly recent: readonly RecentProbe[];
}

/** The last RECENT_PROBES_PER_MODULE probes of each module, like blackbox_exporter's "Recent Probes". */
export class RecentProbes {
  readonly #byModule = new Map<string, RecentProbe[]>();

  add(module: string, probe: RecentProbe): void {
    const ring = this.#byModule.get(module) ?? [];
    const target = cap(probe.target, TARGET_SHOWN_CHARS);
    const error = probe.error === undefined ? undefined : cap(probe.error.replaceAll(probe.target, target), ERROR_SHOWN_CHARS);
    ring.unshift({ ...probe, target, error });
    ring.length = Math.min(ring.length, RECENT_PROBES_PER_MODULE);
    this.#byModule.set(module, ring);
  }

  /** Forgets the modules a reload removed. */
  keepOnly(modules: ReadonlySet<string>): void {
    for (const name of this.#byModule.keys()) if (!modules.has(name)) this.#byModule.delete(name);
  }

  of(module: string): readonly RecentProbe[] {
    return this.#byModule.get(module) ?? [];
  }
}

function cap(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars)}… (${text.length} characters)`;
}

/** An allowlist in words, one line per kind of rule; none when it refuses every target. */
export function describeAllowlist(allow: AllowlistConfig): string[] {
  if (allow.allowAny) return ['allows any target'];
  const lines: string[] = [];
  if (allow.hosts?.length) lines.push(`hosts: ${allow.hosts.join(', ')}`);
  if (allow.cidrs?.length) lines.push(`cidrs: ${allow.cidrs.join(', ')}`);
  if (allow.urlPrefixes?.length) lines.push(`urlPrefixes: ${allow.urlPrefixes.join(', ')}`);
  return lines;
}
