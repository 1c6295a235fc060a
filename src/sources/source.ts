import type { Meter } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { z } from 'zod';
import type { Logger } from '../logging.ts';

/** What a source gets when it starts: a meter for its instruments and its validated options. */
export interface SourceContext<Options> {
  /** The source's name from the config (the `source` label on its self-metrics). */
  readonly name: string;
  /** Instruments created here belong to this source: its observable callbacks run with its timeout. */
  readonly meter: Meter;
  readonly options: Options;
  readonly logger: Logger;
  /** Aborted when the source is stopped (shutdown or reload): clear timers and connections then. */
  readonly signal: AbortSignal;
  /**
   * Inside an observable callback: a signal aborted when the collection it serves ends (timed out, or done),
   * to cancel requests and processes that would outlive it. Elsewhere: `signal`.
   */
  readonly collectionSignal: () => AbortSignal;
  /**
   * Inside an observable callback: adds ready-made metrics to the collection it serves, exported with the
   * source's instruments when the collection succeeds. For families known only once an input is read, and for
   * what observable instruments cannot make (histograms); the source bounds their series itself.
   */
  readonly produce: (metrics: readonly MetricData[]) => void;
  /** Most series one instrument may observe in one collection (`global.seriesLimit`): work past it is wasted. */
  readonly seriesLimit: number;
}

/** What an options schema may depend on: the config file it validates. */
export interface OptionsContext {
  /**
   * The config file's directory (the working directory for the built-in default): resolve relative paths in the
   * options against it with resolveConfigPath, as the built-in kinds do.
   */
  readonly configDir: string;
}

/**
 * A kind of metric source. Its `options` schema describes the config fields beside `name`, `kind` and
 * `timeout` (a function of the OptionsContext when a field depends on the config file, such as a path);
 * `setup` creates OpenTelemetry instruments on `context.meter` and registers their callbacks.
 */
export interface SourceDefinition<Options extends z.ZodObject = z.ZodObject> {
  readonly kind: string;
  readonly description: string;
  readonly options: Options | ((context: OptionsContext) => Options);
  setup(context: SourceContext<z.output<Options>>): void | Promise<void>;
  /** Valid options that are likely a mistake: shown by check-config and logged at startup, without failing either. */
  warnings?(options: z.output<Options>): string[];
}

/** The options schema of `definition` for one config file. */
export function optionsSchema(definition: SourceDefinition, context: OptionsContext): z.ZodObject {
  return typeof definition.options === 'function' ? definition.options(context) : definition.options;
}

export function defineSource<Options extends z.ZodObject>(definition: SourceDefinition<Options>): SourceDefinition<Options> {
  return definition;
}
