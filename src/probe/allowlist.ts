// A stand-in for the allowlist branch (issue 13): it implements the agreed interface for `allowAny` and exact host
// names only. The allowlist engineer's file replaces this one at merge.
import { z } from 'zod';

export interface AllowlistConfig {
  hosts?: string[];
  cidrs?: string[];
  urlPrefixes?: string[];
  allowAny?: boolean;
}

export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** The `allow:` block of a module, validated at load. */
export function allowlistSchema(): z.ZodType<AllowlistConfig> {
  return z.strictObject({
    hosts: z.array(z.string().min(1)).optional(),
    cidrs: z.array(z.string().min(1)).optional(),
    urlPrefixes: z.array(z.string().min(1)).optional(),
    allowAny: z.boolean().optional(),
  });
}

export class Allowlist {
  readonly #config: AllowlistConfig;

  constructor(config: AllowlistConfig) {
    this.#config = config;
  }

  /** The target string as given in ?target= (a URL, host, host:port or IP), before anything is contacted. */
  checkTarget(target: string): Verdict {
    if (this.#config.allowAny) return { allowed: true };
    const host = hostOf(target);
    return host !== undefined && (this.#config.hosts ?? []).includes(host)
      ? { allowed: true }
      : { allowed: false, reason: `target host ${JSON.stringify(host ?? target)} is not in the module's allow.hosts` };
  }

  /** A URL the HTTP client is about to contact, with the addresses its host resolved to. */
  checkConnection(url: URL, _addresses: readonly string[]): Verdict {
    return this.checkTarget(url.href);
  }
}

function hostOf(target: string): string | undefined {
  try {
    return new URL(target.includes('://') ? target : `http://${target}`).hostname;
  } catch {
    return undefined;
  }
}
