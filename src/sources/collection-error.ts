/**
 * Why a collection of a source produced no series: the `reason` label of custom_exporter_source_errors_total.
 * A fixed list, so a label value never comes from a target's answer.
 */
export const FAILURE_REASONS = [
  'error', // anything not classified below
  'timeout', // the source's timeout or the scrape's deadline passed
  'series_limit', // an instrument observed more series than global.seriesLimit
  'stale', // interval mode: the latest successful poll is older than staleAfter
  'connection', // the target could not be reached (refused, DNS, TLS, reset)
  'status', // the target answered with a status code that is not accepted
  'parse', // the answer is not valid JSON (or not a number)
  'path', // a JSONPath matched nothing
  'value', // a matched value is not a number and not in valueMap
  'duplicate', // the same series twice: two of one mapped metric with the same labels, or one name and labels twice in Prometheus text
  'exit_code', // a command exited with a non-zero code
  'too_large', // an answer, output or file over its size cap, or a document too large to map within the worker's memory
  'query', // the database refused a query (a syntax error, a missing table, a write in a read-only transaction)
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Thrown by a source's callback to fail its collection with a specific reason instead of `error`. */
export class CollectionError extends Error {
  override name = 'CollectionError';
  readonly reason: FailureReason;

  constructor(reason: FailureReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
