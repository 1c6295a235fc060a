import { Worker } from 'node:worker_threads';
import type { CheckRequest, CheckResult } from './bcrypt-worker.ts';

/** Checks waiting or running at once; more are refused at once (503) rather than queued without end. */
const MAX_PENDING_CHECKS = 32;
/** A worker with nothing to do for this long is stopped, giving its memory back (a cached login needs none). */
const IDLE_MS = 60_000;

/** There are MAX_PENDING_CHECKS checks waiting already. */
export class TooManyChecksError extends Error {
  override name = 'TooManyChecksError';
}

// Node runs src/*.ts in the tests and dist/*.js everywhere else: the worker is the sibling file of this one.
const WORKER_FILE = new URL(`./bcrypt-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * bcrypt checks in one worker thread, started by the first check and stopped when idle, so the event loop stays
 * free for serving (issue 11) and an exporter without basic auth never starts it. Checks run in arrival order.
 */
export class PasswordChecks {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, { resolve(ok: boolean): void; reject(err: Error): void }>();
  #nextId = 0;
  #idle: NodeJS.Timeout | undefined;

  /** Whether `password` matches the bcrypt `hash`. */
  check(password: string, hash: string): Promise<boolean> {
    if (this.#pending.size >= MAX_PENDING_CHECKS)
      return Promise.reject(new TooManyChecksError(`${MAX_PENDING_CHECKS} password checks waiting`));
    clearTimeout(this.#idle);
    this.#worker ??= this.#start();
    const worker = this.#worker;
    const id = this.#nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, password, hash } satisfies CheckRequest);
    });
  }

  #start(): Worker {
    const worker = new Worker(WORKER_FILE);
    worker.on('message', ({ id, ok }: CheckResult) => {
      this.#pending.get(id)?.resolve(ok);
      this.#pending.delete(id);
      if (this.#pending.size === 0) {
        this.#idle = setTimeout(() => this.#stop(worker), IDLE_MS);
        this.#idle.unref();
      }
    });
    // A worker that dies fails what it had; the next check starts a new one.
    const fail = (err: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const { reject } of this.#pending.values()) reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`password check worker exited (${code})`)));
    // Never what keeps the process alive (after the listeners: adding one refs the worker again).
    worker.unref();
    return worker;
  }

  #stop(worker: Worker): void {
    if (this.#worker !== worker || this.#pending.size > 0) return;
    this.#worker = undefined;
    void worker.terminate();
  }
}
