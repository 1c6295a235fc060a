import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../logging.ts';
import { logBudget } from './log-budget.ts';
import type { PasswordChecks } from './password-checks.ts';

// Successful logins are remembered (bcrypt is slow by design and Prometheus scrapes often); failures never are.
const CACHE_LIMIT = 1000;

/**
 * HTTP basic authentication against bcrypt hashes, as exporter-toolkit's `basic_auth_users`. `users()` is read
 * on every request, so a reloaded file takes effect at once; no users means no authentication. The bcrypt checks
 * run off the event loop, a bounded number at a time (issue 11): past the bound a login gets 503 at once.
 */
export function basicAuth(users: () => ReadonlyMap<string, string>, exempt: (path: string) => boolean, logger: Logger): Middleware {
  const verified = new Map<string, string>();
  const log = logBudget(logger);
  let checks: PasswordChecks | undefined;
  return async (ctx, next) => {
    const known = users();
    if (known.size === 0 || exempt(ctx.path)) return next();
    const credentials = parseBasic(ctx.get('Authorization'));
    if (credentials) {
      const hash = known.get(credentials.user);
      const key = createHash('sha256').update(`${credentials.user}\u0000${credentials.password}`).digest('hex');
      if (hash !== undefined && verified.get(key) === hash) return next();
      // Loaded with the first login that needs a check: an exporter without basic auth never loads worker_threads.
      const { PasswordChecks, TooManyChecksError } = await import('./password-checks.ts');
      checks ??= new PasswordChecks();
      let matches: boolean;
      try {
        // An unknown user is checked against a known user's hash, then refused: it costs exactly what a wrong
        // password does, so timing does not tell which users exist.
        matches = await checks.check(credentials.password, hash ?? known.values().next().value!);
      } catch (err) {
        if (!(err instanceof TooManyChecksError)) throw err;
        log(
          'warn',
          { peer: ctx.ip, err: err.message },
          'login answered 503: too many password checks waiting (a flood of wrong passwords?)',
        );
        ctx.status = 503;
        ctx.set('Retry-After', '1');
        ctx.body = 'too many logins being checked; retry\n';
        return;
      }
      if (matches && hash !== undefined) {
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
