import { parentPort } from 'node:worker_threads';
import { CollectionError } from '../collection-error.ts';
import { type MappingJob, mapDocument } from './map-document.ts';
import { type PrometheusTextJob, parsePrometheusText } from './prometheus-text-parser.ts';

/** What the pool's workers do: map a JSON (or number) document, or parse Prometheus text. */
export type WorkerJob = MappingJob | PrometheusTextJob;

/** A worker thread of the mapping pool: runs one job at a time and posts back its result or why it failed. */
export type MappingReply =
  | { readonly series: ReturnType<typeof mapDocument> | ReturnType<typeof parsePrometheusText> }
  | { readonly failure: { readonly reason: CollectionError['reason']; readonly message: string } };

parentPort!.on('message', (job: WorkerJob) => {
  let reply: MappingReply;
  try {
    reply = { series: 'mappings' in job ? mapDocument(job) : parsePrometheusText(job.bytes, job) };
  } catch (err) {
    reply = {
      failure:
        err instanceof CollectionError
          ? { reason: err.reason, message: err.message }
          : { reason: 'error', message: `mapping ${job.what} failed: ${err instanceof Error ? err.message : String(err)}` },
    };
  }
  parentPort!.postMessage(reply);
});
