import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { CollectionError } from '../collection-error.ts';
import type { ConnectionCheck } from '../source.ts';
import type { ConnectionSettings } from './driver.ts';

/**
 * Why a `sql` source cannot be a probe module, as [field, reason], or undefined. Its target is a database host:
 * a SQLite file has none, a socket is not a host, a DSN is a secret (templating a host into it would mean reading
 * and rewriting the secret), and a query's text is never templated (values go in as bound `params`).
 */
export function sqlModuleProblem(options: Readonly<Record<string, unknown>>): [field: (string | number)[], reason: string] | undefined {
  if (options.driver === 'sqlite') return [['driver'], 'a sqlite database has no host for a probe target: use postgres or mysql'];
  if (options.dsn !== undefined) return [['dsn'], 'a sql module takes the connection fields (host, port, user, ...), not a dsn'];
  if (options.socket !== undefined) return [['socket'], 'a sql module connects to the target host, not to a socket'];
  const queries = options.queries as readonly { sql: string; interval?: number }[];
  for (const [index, query] of queries.entries()) {
    if (/\{\{.*\}\}/s.test(query.sql))
      return [['queries', index, 'sql'], 'SQL text is not templated: bind {{target}} or {{params.NAME}} in params'];
    if (query.interval !== undefined) return [['queries', index, 'interval'], 'a module runs once per probe: no background polling'];
  }
  return undefined;
}

// The drivers' own defaults when `port` is not given.
const DEFAULT_PORTS: Readonly<Record<string, number>> = { postgres: 5432, mysql: 3306 };

/**
 * For a probe: `host` resolved here and every address judged by the module's allowlist, then the settings name the
 * address to connect to, so DNS answering differently to the driver's own lookup cannot bring in a refused address.
 * The first address is used (the order getaddrinfo gives). Refused: a `connection` failure (probe_success 0).
 */
export async function allowedAddress(settings: ConnectionSettings, allow: ConnectionCheck, driver: string): Promise<ConnectionSettings> {
  const host = settings.host ?? 'localhost';
  // The allowlist judges URLs: the database's host and port, in the form a host[:port] target parses to.
  const url = new URL(`http://${isIP(host) === 6 ? `[${host}]` : host}:${settings.port ?? DEFAULT_PORTS[driver]}`);
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map(({ address }) => address);
    } catch (err) {
      throw new CollectionError('connection', `${host}: cannot resolve: ${(err as Error).message}`);
    }
  }
  const verdict = allow(url, addresses);
  if (!verdict.allowed) throw new CollectionError('connection', `${url.host}: refused: ${verdict.reason}`);
  if (addresses.length === 0) throw new CollectionError('connection', `${host}: no addresses`);
  return { ...settings, address: addresses[0] };
}
