import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging.ts';
import { createApp } from './app.ts';
import type { ListenAddress } from './listen-address.ts';
import type { RouteContext } from './routes.ts';
import { listen } from './server.ts';
import type { WebConfig } from './web-config.ts';
import { WebConfigWatcher } from './web-config-watcher.ts';

/** How the HTTP side is protected (--web.* flags and the web config file). */
export interface WebSettings {
  /** TLS, basic auth users and response headers; undefined serves plain HTTP to everyone. */
  readonly config: WebConfig | undefined;
  readonly maxRequests: number;
  readonly protectHealth: boolean;
}

export const DEFAULT_MAX_REQUESTS = 40;
export const PLAIN_WEB: WebSettings = { config: undefined, maxRequests: DEFAULT_MAX_REQUESTS, protectHealth: false };
const NO_WEB_CONFIG = { headers: {}, users: new Map<string, string>() };

export interface HttpOptions {
  readonly listen: ListenAddress;
  readonly web: WebSettings;
  readonly routes: RouteContext;
  readonly logger: Logger;
}

export interface HttpService {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: AddressInfo;
  readonly tls: boolean;
  /** Stops accepting and watching the web config; in-flight requests get up to `graceMs` to finish. */
  stop(graceMs: number): Promise<void>;
}

/** The koa app on its server, with the web config kept current. */
export async function startHttp(options: HttpOptions): Promise<HttpService> {
  const { web, logger } = options;
  const watcher = web.config && new WebConfigWatcher(web.config, logger);
  const access = { web: () => watcher?.current ?? NO_WEB_CONFIG, protectHealth: web.protectHealth };
  const server = await listen(createApp(options.routes, access, logger), options.listen, web.config?.tls, logger);
  watcher?.start((next) => {
    if (next.tls && server.tls) server.updateTls(next.tls);
  });
  return {
    address: server.address,
    tls: server.tls,
    async stop(graceMs) {
      watcher?.stop();
      await server.close(graceMs);
    },
  };
}
