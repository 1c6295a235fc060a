import type { Logger } from '../logging.ts';

/** Lines per minute at most about one kind of hostile traffic: a flood of bad requests must not flood the log. */
const LINES_PER_MINUTE = 10;
const MINUTE_MS = 60_000;

/** A logger for one kind of event that logs at most 10 lines a minute; the first line after says how many were left out. */
export function logBudget(logger: Logger) {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  return (level: 'debug' | 'warn', fields: Record<string, unknown>, msg: string) => {
    if (!logger.isLevelEnabled(level)) return;
    const now = Date.now();
    if (now - windowStart >= MINUTE_MS) {
      windowStart = now;
      logged = 0;
    }
    if (logged >= LINES_PER_MINUTE) {
      suppressed++;
      return;
    }
    logged++;
    logger[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
    suppressed = 0;
  };
}
