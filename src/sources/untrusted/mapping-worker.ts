import { parentPort } from 'node:worker_threads';
import { CollectionError } from '../collection-error.ts';
import { type MappingJob, mapDocument } from './map-document.ts';

/** A worker thread of the mapping pool: maps one job at a time and posts back its series or why it failed. */
export type MappingReply =
  | { readonly series: ReturnType<typeof mapDocument> }
  | { readonly failure: { readonly reason: CollectionError['reason']; readonly message: string } };

parentPort!.on('message', (job: MappingJob) => {
  let reply: MappingReply;
  try {
    reply = { series: mapDocument(job) };
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
