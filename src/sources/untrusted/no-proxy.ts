import { BlockList, isIP } from 'node:net';

/** Whether a target host (and port) is reached directly rather than through the proxy. */
export type NoProxy = (hostname: string, port: string) => boolean;

/**
 * Parses a NO_PROXY list as Go's golang.org/x/net/http/httpproxy (and so Prometheus' `no_proxy`) reads it:
 * comma-separated; `*` matches every host; an IP address or CIDR block matches the addresses it covers;
 * `example.com` matches the domain and its subdomains, `.example.com` and `*.example.com` only the subdomains;
 * an entry with `:port` matches only that port. Unlike Go, localhost is not exempted by itself: list it.
 * Throws on an entry that cannot be one of these (say, a CIDR block with a bad prefix).
 */
export function parseNoProxy(list: string): NoProxy {
  const blocks = new BlockList();
  const exact: { ip: string; port: string }[] = [];
  const domains: { suffix: string; orItself: boolean; port: string }[] = [];
  let everything = false;
  for (const raw of list.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') {
      everything = true;
      continue;
    }
    const block = /^([^/]+)\/(\d+)$/.exec(entry);
    if (block) {
      const [, address = '', prefix = ''] = block;
      const family = isIP(address);
      const bits = Number(prefix);
      if (family === 0 || bits > (family === 4 ? 32 : 128)) throw new Error(`${JSON.stringify(entry)} is not a CIDR block`);
      blocks.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    const { host, port } = splitHostPort(entry);
    if (isIP(host) !== 0) exact.push({ ip: host, port });
    else if (/^(\*\.|\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(host)) {
      const subdomainsOnly = host.startsWith('.') || host.startsWith('*.');
      domains.push({ suffix: `.${host.replace(/^\*?\./, '')}`, orItself: !subdomainsOnly, port });
    } else throw new Error(`${JSON.stringify(entry)} is not a host name, IP address or CIDR block`);
  }
  return (hostname, port) => {
    const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (everything) return true;
    const family = isIP(host);
    if (family !== 0 && blocks.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
    const portMatches = (wanted: string) => wanted === '' || wanted === port;
    if (exact.some((e) => e.ip === host && portMatches(e.port))) return true;
    return domains.some((d) => (host.endsWith(d.suffix) || (d.orItself && host === d.suffix.slice(1))) && portMatches(d.port));
  };
}

function splitHostPort(entry: string): { host: string; port: string } {
  if (isIP(entry) !== 0) return { host: entry, port: '' };
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ?? '' };
  const withPort = /^(.*):(\d+)$/.exec(entry);
  return withPort ? { host: withPort[1]!, port: withPort[2]! } : { host: entry, port: '' };
}
