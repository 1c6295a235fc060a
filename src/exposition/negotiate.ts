import { type MediaRange, parseAccept } from './accept-header.ts';
import { carriesEscaping, MEDIA_TYPES } from './content-type.ts';
import type { Escaping, ExpositionFormat, ScrapeProtocol } from './format.ts';
import { WRITABLE_PROTOCOLS } from './writers.ts';

/** What a scraper gets when it asks for nothing in particular, for nothing we write, or in a malformed header. */
export const DEFAULT_FORMAT: ExpositionFormat = { protocol: 'PrometheusText0.0.4', escaping: 'underscores' };

const ESCAPINGS: ReadonlyMap<string, Escaping> = new Map<string, Escaping>([
  ['allow-utf-8', 'allow-utf-8'],
  // The spelling without the hyphen is accepted too (issue 12).
  ['allow-utf8', 'allow-utf-8'],
  ['underscores', 'underscores'],
  ['dots', 'dots'],
  ['values', 'values'],
]);

/**
 * The format of a scrape's answer, from its Accept header (RFC 9110 §12.5.1): the acceptable range with the
 * highest weight (ties: the earlier in the header) that names a format with a writer. Like client_golang's
 * expfmt.NegotiateAccept, a range names a format only when its parameters say which one (version, proto,
 * encoding); the wildcards (any type, any text type) stand for text 0.0.4. A malformed header never fails a scrape: it gets the
 * default, as does a header naming nothing we write.
 */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (!accept) return DEFAULT_FORMAT;
  const ranges = parseAccept(accept);
  if (!ranges) return DEFAULT_FORMAT;
  // Array.prototype.sort is stable: equal weights keep header order.
  for (const range of ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q)) {
    const protocol = protocolOf(range);
    if (protocol === undefined || !WRITABLE_PROTOCOLS.has(protocol)) continue;
    const escaping = carriesEscaping(protocol) ? (ESCAPINGS.get(range.params.get('escaping') ?? '') ?? 'underscores') : 'underscores';
    return { protocol, escaping };
  }
  return DEFAULT_FORMAT;
}

/** The protocol a media range names, if any. */
function protocolOf(range: MediaRange): ScrapeProtocol | undefined {
  const { type, subtype, params } = range;
  const charset = params.get('charset');
  // Every text format is UTF-8; a range asking for another charset cannot be served.
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') return undefined;
  if (subtype === '*' && (type === '*' || type === 'text')) return 'PrometheusText0.0.4';
  const mediaType = `${type}/${subtype}`;
  // A range without version names the oldest version of its type, as expfmt's matchFormat does.
  if (mediaType === MEDIA_TYPES['PrometheusText0.0.4'].type) {
    return versioned(params.get('version') ?? '0.0.4', 'PrometheusText0.0.4', 'PrometheusText1.0.0');
  }
  if (mediaType === MEDIA_TYPES['OpenMetricsText0.0.1'].type) {
    return versioned(params.get('version') ?? '0.0.1', 'OpenMetricsText0.0.1', 'OpenMetricsText1.0.0');
  }
  const proto = MEDIA_TYPES.PrometheusProto;
  if (mediaType === proto.type && params.get('proto') === proto.params.proto && params.get('encoding') === proto.params.encoding) {
    return 'PrometheusProto';
  }
  return undefined;
}

function versioned(version: string, ...protocols: ScrapeProtocol[]): ScrapeProtocol | undefined {
  return protocols.find((p) => MEDIA_TYPES[p].params.version === version);
}
