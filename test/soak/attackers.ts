// The wrong-password flood of `npm run soak -- --attack`: clients that each send one request after the other, every
// one with the right user name and a new wrong password, so the exporter has to run bcrypt for each (failures are
// never cached). Loopback only, until `stop` aborts.

// A client gives up on a request after this long and sends the next one.
const ATTACK_TIMEOUT_MS = 5000;

export interface FloodResult {
  /** Requests answered, by status code (401 expected). */
  readonly statuses: Map<number, number>;
  /** Requests that got no answer: timeouts, resets. */
  readonly errors: Map<string, number>;
}

export async function floodWrongPasswords(
  url: string,
  clients: number,
  wrongAuthorization: (n: number) => string,
  stop: AbortSignal,
): Promise<FloodResult> {
  const result: FloodResult = { statuses: new Map(), errors: new Map() };
  const add = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);
  let sent = 0;
  const client = async () => {
    while (!stop.aborted) {
      try {
        const res = await fetch(url, {
          headers: { authorization: wrongAuthorization(sent++) },
          signal: AbortSignal.timeout(ATTACK_TIMEOUT_MS),
        });
        await res.arrayBuffer();
        add(result.statuses, res.status);
      } catch (err) {
        add(result.errors, (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return result;
}
