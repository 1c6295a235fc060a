import { Worker } from 'node:worker_threads';
import { CollectionError } from '../collection-error.ts';
import type { MappedSeries, MappingJob } from './map-document.ts';
import type { MappingReply, WorkerJob } from './mapping-worker.ts';
import type { PrometheusTextJob, TextFamily } from './prometheus-text-parser.ts';

/**
 * A small pool of worker threads that parse and map untrusted documents (issue 11: the event loop belongs to
 * serving). Loaded and started only when an http, command or file source first maps a document; a job is
 * cancelled by terminating its worker when the collection ends, and a worker that runs out of its heap fails
 * its job with `too_large` instead of growing the exporter.
 */

// Two cores is the common pod size; more workers would mostly add memory (up to HEAP_MB each).
const POOL_SIZE = 2;
/** The old-generation heap of one worker: a document that needs more fails with `too_large`. */
const WORKER_HEAP_MB = 48;
// Scrapes come every 15–60 s: keep a worker that long rather than pay its start (~30 ms) every scrape.
const IDLE_MS = 120_000;
// The worker's own source file: .ts when run from src/ (tests), .js once built.
const WORKER_URL = new URL(`./mapping-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

class MappingPool {
  readonly #idle: { worker: Worker; timer: NodeJS.Timeout }[] = [];
  #size = 0;
  readonly #waiting = new Set<() => void>();

  /** Maps `job` in a worker; rejects with the collection's abort reason when `signal` aborts first. */
  async map<Result>(job: WorkerJob, signal: AbortSignal): Promise<Result> {
    const worker = await this.#acquire(signal);
    return new Promise((resolve, reject) => {
      const settle = () => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
      };
      const onMessage = (reply: MappingReply) => {
        settle();
        this.#release(worker);
        if ('series' in reply) resolve(reply.series as Result);
        else reject(new CollectionError(reply.failure.reason, reply.failure.message));
      };
      const onError = (err: Error & { code?: string }) => {
        settle();
        this.#discard(worker);
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new CollectionError('too_large', `${job.what} needs more than ${WORKER_HEAP_MB} MiB to map`)
            : new CollectionError('error', `mapping ${job.what} failed: ${err.message}`),
        );
      };
      const onExit = (code: number) => onError(new Error(`the mapping worker exited with ${code}`));
      const onAbort = () => {
        settle();
        this.#discard(worker);
        reject(signal.reason);
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      // Transferred, not copied; a view into a shared buffer (Node's small-Buffer pool) is copied out first.
      const { bytes } = job;
      const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      worker.postMessage({ ...job, bytes: owned }, [owned.buffer as ArrayBuffer]);
    });
  }

  async #acquire(signal: AbortSignal): Promise<Worker> {
    for (;;) {
      signal.throwIfAborted();
      const idle = this.#idle.pop();
      if (idle) {
        clearTimeout(idle.timer);
        return idle.worker;
      }
      if (this.#size < POOL_SIZE) {
        this.#size++;
        const worker = new Worker(WORKER_URL, {
          resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 8 },
          env: {},
          stdout: false,
          stderr: false,
        });
        // An idle worker must not keep the process alive (or delay its exit).
        worker.unref();
        // A job's own listener reports its worker's errors; this one keeps a late error from crashing the exporter.
        worker.on('error', () => {});
        worker.once('exit', () => this.#forgetIdle(worker));
        return worker;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiting.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiting.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  #release(worker: Worker): void {
    const entry = {
      worker,
      timer: setTimeout(() => {
        this.#idle.splice(this.#idle.indexOf(entry), 1);
        this.#discard(worker);
      }, IDLE_MS).unref(),
    };
    this.#idle.push(entry);
    this.#wakeOne();
  }

  // Its slot is free only once the thread is gone: a replacement started earlier would add its heap to the RSS.
  #discard(worker: Worker): void {
    void worker.terminate().finally(() => {
      this.#size--;
      this.#wakeOne();
    });
  }

  // A worker that died while idle (it should not) frees its slot instead of taking the next job.
  #forgetIdle(worker: Worker): void {
    const at = this.#idle.findIndex((entry) => entry.worker === worker);
    if (at === -1) return;
    clearTimeout(this.#idle[at]!.timer);
    this.#idle.splice(at, 1);
    this.#size--;
    this.#wakeOne();
  }

  #wakeOne(): void {
    this.#waiting.values().next().value?.();
  }
}

const pool = new MappingPool();

/** Parses and maps `job` off the main thread, cancelled when `signal` aborts. */
export function mapInWorker(job: MappingJob, signal: AbortSignal): Promise<MappedSeries[][]> {
  return pool.map(job, signal);
}

/** Parses Prometheus text off the main thread, cancelled when `signal` aborts. */
export function parseInWorker(job: PrometheusTextJob, signal: AbortSignal): Promise<TextFamily[]> {
  return pool.map(job, signal);
}
