import { statSync } from 'node:fs';
import type { Logger } from '../logging.ts';
import { loadWebConfig, type WebConfig } from './web-config.ts';

const POLL_MS = 1000;

/**
 * Keeps the web configuration current: when the file or a certificate it names changes (Kubernetes swaps
 * mounted Secrets in place), it is loaded again. A file that no longer loads is logged and the last good
 * configuration stays in force.
 */
export class WebConfigWatcher {
  #current: WebConfig;
  #stamp: string;
  readonly #logger: Logger;
  #onChange: (config: WebConfig) => void = () => {};
  #timer: NodeJS.Timeout | undefined;

  constructor(initial: WebConfig, logger: Logger) {
    this.#current = initial;
    this.#stamp = stampOf(initial);
    this.#logger = logger;
  }

  get current(): WebConfig {
    return this.#current;
  }

  /** Polls from now on; `onChange` gets each configuration loaded again (the server takes its new certificates). */
  start(onChange: (config: WebConfig) => void): void {
    this.#onChange = onChange;
    this.#timer = setInterval(() => this.check(), POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Loads the file again if it or its certificates changed since the last look. */
  check(): void {
    const stamp = stampOf(this.#current);
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    try {
      const next = loadWebConfig(this.#current.file);
      if ((next.tls === undefined) !== (this.#current.tls === undefined) || next.tls?.clientAuth !== this.#current.tls?.clientAuth) {
        this.#logger.warn(
          { file: next.file },
          'turning TLS on or off or changing client_auth_type takes a restart; the rest of the web config is reloaded',
        );
      }
      this.#current = next;
      this.#stamp = stampOf(next);
      this.#onChange(next);
      this.#logger.info({ file: next.file, users: next.users.size, tls: next.tls !== undefined }, 'web config reloaded');
    } catch (err) {
      this.#logger.error({ file: this.#current.file, err: (err as Error).message }, 'web config reload failed; keeping the previous one');
    }
  }
}

function stampOf(config: WebConfig): string {
  return [config.file, ...(config.tls?.files ?? [])]
    .map((file) => {
      try {
        const s = statSync(file);
        return `${s.mtimeMs}:${s.size}:${s.ino}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
