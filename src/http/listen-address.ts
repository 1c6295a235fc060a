export interface ListenAddress {
  /** Undefined means every interface. */
  readonly host: string | undefined;
  readonly port: number;
}

/** Parses `[host]:port` as the Prometheus exporters take it: `:9000`, `127.0.0.1:9000`, `[::1]:9000`. */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) {
    throw new Error(`invalid listen address "${text}" (expected [host]:port, e.g. :9000 or 127.0.0.1:9000)`);
  }
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}
