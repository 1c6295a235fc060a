// The public API for writing a source in TypeScript or JavaScript.
export { defineSource, type SourceContext, type SourceDefinition } from './sources/source.ts';
export { CollectionError, FAILURE_REASONS, type FailureReason } from './sources/collection-error.ts';
