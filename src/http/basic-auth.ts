import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';

// Loaded by the first request that needs it: an exporter without basic auth does not carry bcrypt in memory.
const bcryptjs = () => import('bcryptjs').then((m) => m.default);

// Verified against for unknown users, so a wrong user name costs as much as a wrong password.
let dummyHash: string | undefined;
// Successful logins are remembered (bcrypt is slow by design and Prometheus scrapes often); failures never are.
const CACHE_LIMIT = 1000;

/**
 * HTTP basic authentication against bcrypt hashes, as exporter-toolkit's `basic_auth_users`. `users()` is read
 * on every request, so a reloaded file takes effect at once; no users means no authentication.
 */
export function basicAuth(users: () => ReadonlyMap<string, string>, exempt: (path: string) => boolean): Middleware {
  const verified = new Map<string, string>();
  return async (ctx, next) => {
    const known = users();
    if (known.size === 0 || exempt(ctx.path)) return next();
    const credentials = parseBasic(ctx.get('Authorization'));
    if (credentials) {
      const hash = known.get(credentials.user);
      const key = createHash('sha256').update(`${credentials.user}\u0000${credentials.password}`).digest('hex');
      if (hash !== undefined && verified.get(key) === hash) return next();
      const bcrypt = await bcryptjs();
      dummyHash ??= bcrypt.hashSync('unknown user', 10);
      const ok = await bcrypt.compare(credentials.password, hash ?? dummyHash);
      if (ok && hash !== undefined) {
        if (verified.size >= CACHE_LIMIT) verified.clear();
        verified.set(key, hash);
        return next();
      }
    }
    ctx.status = 401;
    ctx.set('WWW-Authenticate', 'Basic realm="custom-exporter", charset="UTF-8"');
    ctx.body = 'unauthorized\n';
  };
}

function parseBasic(header: string): { user: string; password: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
