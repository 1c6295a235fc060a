import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

// Runs in a worker thread (see password-checks.ts): bcrypt is slow by design, and on the event loop it would stall
// every request, /healthz included (issue 11). One check at a time, in the order they arrive.

export interface CheckRequest {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

export interface CheckResult {
  readonly id: number;
  readonly ok: boolean;
}

const port = parentPort!;

port.on('message', ({ id, password, hash }: CheckRequest) => {
  let ok = false;
  try {
    ok = bcrypt.compareSync(password, hash);
  } catch {
    // The web config only admits hashes bcryptjs can check; anything else is a refusal, never a crash.
  }
  port.postMessage({ id, ok } satisfies CheckResult);
});
