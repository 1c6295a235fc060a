import type { ResolvedModule } from '../config/resolved.ts';

/** A target or query parameter a module cannot take: /probe answers 400 with the message. */
export class BadProbeError extends Error {
  override name = 'BadProbeError';
}

const PLACEHOLDER = /\{\{\s*(target|params\.([A-Za-z_][A-Za-z0-9_]*))\s*\}\}/g;

/**
 * The options of one probe of `target`: http modules write it into their `url` (`probe.target`), `module` sources
 * make them with their `probe` hook, and the other kinds fill `{{target}}` and `{{params.NAME}}` in their string
 * options (a command's arguments and environment: the target is one argument, never seen by a shell).
 */
export function probeOptions(module: ResolvedModule, target: string, params: Readonly<Record<string, string>>): Record<string, unknown> {
  const { definition, options } = module.source;
  if (definition.probe) {
    try {
      return definition.probe(target, params, options) as Record<string, unknown>;
    } catch (err) {
      throw new BadProbeError(err instanceof Error ? err.message : String(err));
    }
  }
  const filled = fill(options, target, params) as Record<string, unknown>;
  if (definition.kind === 'sql') {
    // The target is the database's host[:port]; a query's text stays as written (only its bound params are filled).
    const { hostname, port } = targetHost(target);
    const queries = (filled.queries as Record<string, unknown>[]).map((query, i) => ({
      ...query,
      sql: (options.queries as { sql: string }[])[i]!.sql,
    }));
    // The http: parser drops port 80 as the default: an empty port is the module's own only when none was given.
    const given = port !== '' ? Number(port) : /:0*80$/.test(target) ? 80 : options.port;
    return { ...filled, queries, host: hostname.replace(/^\[(.*)\]$/, '$1'), port: given };
  }
  if (definition.kind !== 'http') return filled;
  // Parameters become part of the URL's path or query: encoded, so a value cannot add a path segment or a parameter.
  const encoded = Object.fromEntries(Object.entries(params).map(([name, value]) => [name, encodeURIComponent(value)]));
  const url = fill(options.url, target, encoded) as string;
  return { ...filled, url: targetUrl(url, target, module.probe.target) };
}

/**
 * Whether `target` has the shape its module takes (a host for `target: host`, an http(s) URL for `target: url`),
 * before the allowlist judges it: a malformed target is a bad request (400), not a refused one (403).
 */
export function checkTargetShape(module: ResolvedModule, target: string): void {
  const { definition, options } = module.source;
  if (definition.kind === 'http' && !definition.probe) targetUrl(options.url as string, target, module.probe.target);
  if (definition.kind === 'sql') targetHost(target);
}

/** `target: url`: the target is the URL; `target: host`: it replaces the host[:port] of the configured URL. */
function targetUrl(configured: string, target: string, mode: 'host' | 'url'): string {
  if (mode === 'url') {
    const url = URL.parse(target);
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new BadProbeError('target must be an http:// or https:// URL for this module');
    return url.href;
  }
  const given = targetHost(target);
  const url = new URL(configured);
  url.hostname = given.hostname;
  url.port = given.port;
  return url.href;
}

/** A host[:port] target as the URL parser reads it (hostname as in a URL: an IPv6 address in brackets). */
function targetHost(target: string): URL {
  // Only a host, IP or [IPv6], and a port: a path, credentials or query would change more than the host.
  const given = /^[^/?#@\s\\]+$/.test(target) ? URL.parse(`http://${target}`) : null;
  if (given === null || given.host === '') throw new BadProbeError('target must be a host, host:port or IP for this module');
  return given;
}

// Walks plain data only (strings in arrays and objects); secrets and other class instances are left as they are.
// What holds no placeholder (an http module's metric mappings, most of a config) is the module's own object, not a
// copy made for every probe (issue 13: per-probe allocations).
function fill(value: unknown, target: string, params: Readonly<Record<string, string>>): unknown {
  if (!hasPlaceholder(value)) return value;
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_match, _name: string, param: string | undefined) => {
      if (param === undefined) return target;
      const given = params[param];
      if (given === undefined) throw new BadProbeError(`query parameter ${param} is required by this module (or not in its probe.params)`);
      return given;
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, target, params));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, target, params)]));
  }
  return value;
}

function hasPlaceholder(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(hasPlaceholder);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).some(hasPlaceholder);
  }
  return false;
}
