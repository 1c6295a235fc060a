// The baseline of `npm run bench -- --sql`: the same queries run with `pg` in a bare script, no exporter around
// them. Arguments: a JSON { connection, queries, warmup, runs }. Prints { p50, cpuMs } per run of all queries.
import pg from 'pg';

const { connection, queries, warmup, runs } = JSON.parse(process.argv[2]);
const pool = new pg.Pool({ ...connection, min: 1, max: 2 });
const once = () => Promise.all(queries.map((q) => pool.query({ text: q.sql, values: q.params, rowMode: 'array' })));
for (let i = 0; i < warmup; i++) await once();
const ms = [];
const cpu = process.cpuUsage();
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  await once();
  ms.push(performance.now() - started);
}
const used = process.cpuUsage(cpu);
await pool.end();
ms.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ p50: ms[Math.floor(ms.length / 2)], cpuMs: (used.user + used.system) / 1000 / runs })}\n`);
