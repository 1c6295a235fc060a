/**
 * The label value `@key`: the member name (or array index) of an element of `each`, for objects keyed by what
 * should be a label (json_exporter #96, #197, #343). Its own module: the config schema and the mapping worker
 * both need it, and the worker must not load the schema's zod.
 */
export const ELEMENT_KEY = '@key';
