// The public API for writing a source in TypeScript or JavaScript.

export { CollectionError, FAILURE_REASONS, type FailureReason } from './sources/collection-error.ts';
export { resolveConfigPath } from './sources/config-path.ts';
export { defineSource, type OptionsContext, type SourceContext, type SourceDefinition } from './sources/source.ts';
