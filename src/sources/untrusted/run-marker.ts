import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/**
 * Every process a command source starts carries CUSTOM_EXPORTER_RUN=<run> in its environment, and inherits it to
 * its children. Killing the process group misses children that left it (`setsid`, daemons); they are found by this
 * marker in /proc/<pid>/environ instead, as Jenkins finds a build's leftovers by BUILD_ID. Linux only; a process
 * that clears its environment escapes.
 */
export const RUN_MARKER = 'CUSTOM_EXPORTER_RUN';

let runs = 0;

/** A marker value no other run of this exporter (or of another exporter process) uses. */
export function newRun(): string {
  return `${process.pid}.${++runs}`;
}

/** SIGKILLs every process of this user whose environment carries `run`'s marker. */
export async function killMarked(run: string): Promise<void> {
  if (process.platform !== 'linux') return;
  const needle = `\0${RUN_MARKER}=${run}\0`;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return;
  }
  // One read at a time: /proc answers at once, and this must not crowd the I/O threads the sources share.
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, 'latin1');
      if (`\0${environ}`.includes(needle)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // Gone meanwhile, or another user's process (EACCES): not ours either way.
    }
  }
}

// Runs in progress, by marker → process group. The exporter can exit without stopping its sources (a second
// SIGTERM exits at once): what they run must not outlive it.
const running = new Map<string, number>();

/** Registers a run in progress until the returned function is called; killed if the exporter exits first. */
export function trackRun(run: string, processGroup: number): () => void {
  if (running.size === 0) process.once('exit', killRunning);
  running.set(run, processGroup);
  return () => {
    running.delete(run);
    if (running.size === 0) process.off('exit', killRunning);
  };
}

// An 'exit' listener may only do synchronous work.
function killRunning(): void {
  for (const processGroup of running.values()) {
    try {
      process.kill(-processGroup, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (process.platform !== 'linux') return;
  const needles = [...running.keys()].map((run) => `\0${RUN_MARKER}=${run}\0`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = `\0${readFileSync(`/proc/${entry}/environ`, 'latin1')}`;
      if (needles.some((needle) => environ.includes(needle))) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // Gone meanwhile, or not ours.
    }
  }
}
