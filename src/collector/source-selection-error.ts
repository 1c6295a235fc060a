/** A `?source=` selection that cannot be collected: an empty name, or one the running config has no source of (400, issue 13). */
export class SourceSelectionError extends Error {
  override name = 'SourceSelectionError';
}
