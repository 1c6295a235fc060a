import { DiagLogLevel, diag } from '@opentelemetry/api';
import { type Logger, pino } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['logfmt', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Logs go to stderr, as the Prometheus exporters' do; stdout stays free for commands like check-config. */
export function createLogger(level: LogLevel, format: LogFormat): Logger {
  const options = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const destination = format === 'json' ? pino.destination({ fd: 2, sync: true }) : logfmtDestination();
  return pino(options, destination);
}

/** pino writes one JSON object per line; re-encode it as logfmt (`time=… level=… msg="…" key=value`). */
function logfmtDestination(): { write(line: string): void } {
  return {
    write(line: string) {
      const record = JSON.parse(line) as Record<string, unknown>;
      const pairs = Object.entries(record).map(([key, value]) => `${key}=${logfmtValue(value)}`);
      process.stderr.write(`${pairs.join(' ')}\n`);
    },
  };
}

function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/** OpenTelemetry reports callback and export errors only through `diag`, whose default logger drops them. */
export function routeDiagnostics(logger: Logger): void {
  const log = logger.child({ component: 'opentelemetry' });
  diag.setLogger(
    {
      error: (msg, ...args) => log.error(diagFields(args), msg),
      warn: (msg, ...args) => log.warn(diagFields(args), msg),
      info: (msg, ...args) => log.info(diagFields(args), msg),
      debug: (msg, ...args) => log.debug(diagFields(args), msg),
      verbose: (msg, ...args) => log.trace(diagFields(args), msg),
    },
    { logLevel: logger.isLevelEnabled('debug') ? DiagLogLevel.DEBUG : DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

function diagFields(args: unknown[]): Record<string, unknown> {
  if (args.length === 0) return {};
  const [first] = args;
  if (args.length === 1 && first instanceof Error) return { err: first.message };
  return { args: args.map((a) => (a instanceof Error ? a.message : a)) };
}
