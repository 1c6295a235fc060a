// The benchmark workload of issue 6, shared by every peer: a gauge family and a counter family of N series
// each, labels a="a<i%100>", b="b<i%10>", c="c<i>", value i. Every peer computes the values when scraped
// (observable instruments, prom-client's collect()), as a source that reads a backend would.
// Plain JavaScript, so the peers run as a user's deployment does (no type stripping at run time).

export const GAUGE = 'bench_gauge';
export const COUNTER = 'bench_counter';
export const GAUGE_HELP = 'Benchmark gauge family';
export const COUNTER_HELP = 'Benchmark counter family';

/** @param {number} i */
export function labels(i) {
  return { a: `a${i % 100}`, b: `b${i % 10}`, c: `c${i}` };
}

/**
 * How a peer tells the runner it is ready: one JSON line on stdout with the port and the serving process's pid
 * (whose memory the runner reads).
 * @param {number} port
 * @param {number} [pid]
 */
export function announce(port, pid = process.pid) {
  process.stdout.write(`${JSON.stringify({ port, pid })}\n`);
}

export function seriesArg() {
  const n = Number(process.argv[2]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`usage: ${process.argv[1]} SERIES`);
  return n;
}
