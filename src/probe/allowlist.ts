import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { z } from 'zod';

/** The `allow:` block of a probe module. Nothing listed: every target is refused. */
export interface AllowlistConfig {
  hosts?: string[];
  cidrs?: string[];
  urlPrefixes?: string[];
  allowAny?: boolean;
}

/**
 * Where a probe was refused: its target (checkTarget, or the URL first asked for), the addresses its host name
 * resolved to, or a redirect's destination. The `reason` of custom_exporter_probe_refused_total.
 */
export type RefusalReason = 'target' | 'dns' | 'redirect';

export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** Longer targets are refused unread: a URL in a query string has no business being longer (browsers cap near 2 KiB). */
export const MAX_TARGET_LENGTH = 2048;

const ALLOWED: Verdict = { allowed: true };
const refused = (reason: string): Verdict => ({ allowed: false, reason });

/** The `allow:` block, each rule checked at load so a typo is a config error and not a silently closed module. */
export function allowlistSchema(): z.ZodType<AllowlistConfig> {
  const rule = (parse: (text: string) => unknown) =>
    z.string().superRefine((text, ctx) => {
      try {
        parse(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    });
  return z.strictObject({
    hosts: z.array(rule(hostPattern)).optional(),
    cidrs: z.array(rule(parseCidr)).optional(),
    urlPrefixes: z.array(rule(parseUrlPrefix)).optional(),
    allowAny: z.boolean().optional(),
  });
}

/**
 * The targets a probe module may reach. A target is allowed when its host name matches a `hosts` glob, its IP
 * address is inside a `cidrs` range, or it is a URL under a `urlPrefixes` entry; everything is judged on the form
 * the WHATWG URL parser normalises it to (`0x7f.1` is 127.0.0.1, `%61` is `a`, unicode is punycode), the form the
 * HTTP client connects to. When `cidrs` is given, it also bounds where host names may resolve (checkConnection).
 */
export class Allowlist {
  readonly #allowAny: boolean;
  readonly #hosts: readonly RegExp[];
  readonly #cidrs: BlockList | undefined;
  readonly #urlPrefixes: readonly UrlPrefix[];

  constructor(config: AllowlistConfig) {
    this.#allowAny = config.allowAny === true;
    this.#hosts = (config.hosts ?? []).map(hostPattern);
    this.#urlPrefixes = (config.urlPrefixes ?? []).map(parseUrlPrefix);
    if (config.cidrs?.length) {
      const cidrs = new BlockList();
      for (const text of config.cidrs) {
        const { address, prefix, family } = parseCidr(text);
        cidrs.addSubnet(address, prefix, family);
      }
      this.#cidrs = cidrs;
    }
  }

  /** Whether the module refuses every target (no rule at all): check-config warns about it. */
  get empty(): boolean {
    return !this.#allowAny && this.#hosts.length === 0 && this.#cidrs === undefined && this.#urlPrefixes.length === 0;
  }

  /** The target string as given in ?target= (a URL, host, host:port or IP), before anything is contacted. */
  checkTarget(target: string): Verdict {
    const parsed = parseTarget(target);
    if ('reason' in parsed) return refused(parsed.reason);
    if (this.#allowAny) return ALLOWED;
    return this.#checkUrl(parsed.url, parsed.bare);
  }

  /**
   * A URL the HTTP client is about to contact (first request and each redirect hop), with the addresses its host
   * resolved to: the CIDR rules apply to those addresses, so a DNS name cannot smuggle a refused address in. No
   * addresses (a proxy resolves the name): with `cidrs` given, refused, since where it leads cannot be checked.
   */
  checkConnection(url: URL, addresses: readonly string[]): Verdict {
    if (this.#allowAny) return ALLOWED;
    const verdict = this.checkTarget(url.href);
    if (!verdict.allowed || this.#cidrs === undefined || isIpHost(url.hostname)) return verdict;
    if (addresses.length === 0) return refused(`${url.hostname}: cannot check the addresses it resolves to`);
    for (const address of addresses) {
      if (!this.#inCidrs(address)) return refused(`${url.hostname} resolves to ${address}, outside the allowed cidrs`);
    }
    return ALLOWED;
  }

  #checkUrl(url: URL, bare: boolean): Verdict {
    const host = url.hostname;
    if (isIpHost(host)) {
      if (this.#inCidrs(host)) return ALLOWED;
    } else {
      const name = host.endsWith('.') ? host.slice(0, -1) : host;
      if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name)) return refused(`${JSON.stringify(host)} is not a valid host name`);
      if (this.#hosts.some((pattern) => pattern.test(name))) return ALLOWED;
    }
    if (!bare && this.#urlPrefixes.some((prefix) => prefix.matches(url))) return ALLOWED;
    return refused(`${bare ? url.host : url.origin + url.pathname} is not in the module's allow list`);
  }

  #inCidrs(address: string): boolean {
    const ip = address.replace(/^\[(.*)\]$/, '$1');
    const family = isIP(ip);
    // BlockList matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against IPv4 ranges, as the kernel connects them.
    return family !== 0 && this.#cidrs !== undefined && this.#cidrs.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The target as the URL parser normalises it. Refused before parsing: what the parser would silently drop or
 * rewrite (whitespace and control characters are stripped from URLs, WHATWG URL §4.4), user info (`allowed@evil`
 * reads as the host `allowed` to a person and `evil` to the parser), IPv6 zones, and, in a bare host[:port],
 * anything that is not part of one.
 */
function parseTarget(target: string): { url: URL; bare: boolean } | { reason: string } {
  if (target.length === 0) return { reason: 'the target is empty' };
  if (target.length > MAX_TARGET_LENGTH) return { reason: `the target is longer than ${MAX_TARGET_LENGTH} characters` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
  if (/[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff]/.test(target))
    return { reason: 'the target contains whitespace or control characters' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target);
  if (scheme === null) {
    // A bare IPv6 address; one with a zone (fe80::1%eth0) is refused below.
    if (isIP(target) === 6 && !target.includes('%')) return parseUrl(`http://[${target}]`, true);
    if (!/^(\[[0-9a-f:.]+\]|[^:/?#@\\[\]%]+)(:\d{1,5})?$/i.test(target))
      return { reason: 'the target is not a URL, host, host:port or IP' };
    return parseUrl(`http://${target}`, true);
  }
  const protocol = scheme[1]!.toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') return { reason: `${protocol}: targets are not allowed` };
  // Any @ in the authority, even an empty user (http://@host): parsers disagree on which @ ends the user info.
  // (The URL parser skips any number of slashes after http: and https:, so http:///@host has user info too.)
  const authority = target.slice(scheme[1]!.length + 1).replace(/^[/\\]*/, '');
  if (authority.split(/[/?#\\]/, 1)[0]!.includes('@')) return { reason: USER_INFO };
  return parseUrl(target, false);
}

function parseUrl(text: string, bare: boolean): { url: URL; bare: boolean } | { reason: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { reason: 'the target is not a valid URL' };
  }
  if (url.username !== '' || url.password !== '') return { reason: USER_INFO };
  // A server may decode these after the prefix was checked: /v1/..%2fadmin is /admin to some.
  if (/%2e|%2f|%5c/i.test(url.pathname)) return { reason: 'the target path contains an encoded dot, slash or backslash' };
  return { url, bare };
}

const USER_INFO = 'a target with user info (user@host) is not allowed';

const isIpHost = (host: string) => isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;

/**
 * A `hosts` entry as a regular expression over a lower-case ASCII host name (without a trailing dot). `*` is one
 * or more characters within one label, `**` one or more whole labels, `?` one character other than a dot: so
 * `*.internal` matches `a.internal` but not `a.b.internal` nor `internal`, which is what a reader of the glob
 * expects of a DNS name. IP addresses belong in `cidrs`.
 */
function hostPattern(text: string): RegExp {
  const name = text.toLowerCase().replace(/\.$/, '');
  if (isIP(name) !== 0 || isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0) throw new Error(`${text}: an IP address goes in cidrs`);
  const labels = name.split('.').map((label) => {
    if (/[*?]/.test(label)) {
      if (!/^[a-z0-9_*?-]+$/.test(label) || (label.includes('**') && label !== '**'))
        throw new Error(`${text}: not a host name glob (* within a label, ** as a whole label, ?)`);
      return label;
    }
    const ascii = domainToASCII(label);
    if (!/^[a-z0-9_-]+$/.test(ascii)) throw new Error(`${text}: not a host name glob`);
    return ascii;
  });
  const source = labels
    .map((label) =>
      label === '**' ? '[a-z0-9_-]+(?:\\.[a-z0-9_-]+)*' : label.replace(/[*?]/g, (c) => (c === '*' ? '[a-z0-9_-]+' : '[a-z0-9_-]')),
    )
    .join('\\.');
  return new RegExp(`^${source}$`);
}

function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const family = match ? isIP(match[1]!) : 0;
  const prefix = match ? Number(match[2]) : Number.NaN;
  if (match === null || family === 0 || prefix > (family === 4 ? 32 : 128))
    throw new Error(`${text}: not a CIDR range (10.0.0.0/8, fd00::/8)`);
  return { address: match[1]!, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** A `urlPrefixes` entry: the same scheme, host and port, and a path at or under the prefix's, segment by segment. */
interface UrlPrefix {
  matches(url: URL): boolean;
}

function parseUrlPrefix(text: string): UrlPrefix {
  let prefix: URL;
  try {
    prefix = new URL(text);
  } catch {
    throw new Error(`${text}: not a URL`);
  }
  if (prefix.protocol !== 'http:' && prefix.protocol !== 'https:') throw new Error(`${text}: only http and https URLs`);
  if (prefix.username || prefix.password || prefix.search || prefix.hash)
    throw new Error(`${text}: a prefix has no user info, query or fragment`);
  const host = prefix.hostname.replace(/\.$/, '');
  const path = prefix.pathname;
  const under = path.endsWith('/') ? path : `${path}/`;
  return {
    matches: (url) =>
      url.protocol === prefix.protocol &&
      url.hostname.replace(/\.$/, '') === host &&
      url.port === prefix.port &&
      (url.pathname === path || url.pathname.startsWith(under)),
  };
}
