import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import { z } from 'zod';
import { readConfigText, readSmallFile } from '../config/read-config-file.ts';
import { ConfigError, type Locate, parseYaml } from '../config/yaml-document.ts';
import { parseDuration } from '../duration.ts';

// The exporter-toolkit web configuration format (prometheus/exporter-toolkit), so users can reuse their files.

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const satisfies Record<
  string,
  SecureVersion
>;
const tlsVersion = z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS, ...(keyof typeof TLS_VERSIONS)[]]);

const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

// What Node accepts in a header value (its checkInvalidHeaderChar): anything else makes every response throw (500).
const headerValue = z
  .string()
  .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must not contain control characters (CR, LF, …) or characters outside Latin-1');

// exporter-toolkit allows exactly these response headers to be set, two of them only with these values.
const securityHeaders = z.strictObject({
  'Strict-Transport-Security': headerValue.optional(),
  'X-Content-Type-Options': z.literal('nosniff').optional(),
  'X-Frame-Options': z.enum(['deny', 'sameorigin']).optional(),
  'X-XSS-Protection': headerValue.optional(),
  'Content-Security-Policy': headerValue.optional(),
});

// Settings that restrict TLS further than we can honour: refusing them beats silently ignoring a restriction.
const unsupported = (what: string) =>
  z
    .unknown()
    .refine(() => false, `${what} is not supported by custom-exporter (Node.js' OpenSSL defaults apply); remove it`)
    .optional();

const HASH_HINT = 'htpasswd -nBC 10 "" | tr -d \':\\n\'';
const BCRYPT_HASH = /^\$(2[a-z]?)\$(\d{2})\$[./A-Za-z0-9]{53}$/;
// The versions bcryptjs checks; $2x$ (hashes from the buggy crypt_blowfish) would fail every login with a 500.
const BCRYPT_VERSIONS = new Set(['2a', '2b', '2y']);

const bcryptHash = z.string().superRefine((hash, ctx) => {
  const match = BCRYPT_HASH.exec(hash);
  const problem = !match
    ? `must be a bcrypt hash (${HASH_HINT})`
    : !BCRYPT_VERSIONS.has(match[1]!)
      ? `bcrypt version $${match[1]}$ is not supported (use $2a$, $2b$ or $2y$: ${HASH_HINT})`
      : Number(match[2]) < 4 || Number(match[2]) > 31
        ? `bcrypt cost ${match[2]} is outside 4–31`
        : undefined;
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

// exporter-toolkit's rate_limit: a token bucket of `burst` requests refilled one per `interval`; 0 turns it off.
const rateLimit = z
  .strictObject({
    interval: z.string().transform((text, ctx) => {
      const ms = text === '0' ? 0 : parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `invalid duration "${text}" (expected a duration such as 100ms, 1s or 1m; 0s turns the limit off)`,
        });
        return z.NEVER;
      }
      return ms;
    }),
    burst: z.number().int().min(0),
  })
  .refine((r) => r.interval === 0 || r.burst >= 1, {
    message: 'must be at least 1 when interval is set (0 would refuse every request)',
    path: ['burst'],
  });

const TLS_ORDER = Object.keys(TLS_VERSIONS);

const webConfigSchema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert_file: z.string().min(1).optional(),
      key_file: z.string().min(1).optional(),
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      // exporter-toolkit still reads RequireClientCert, the old name of RequireAnyClientCert.
      client_auth_type: z
        .preprocess((type) => (type === 'RequireClientCert' ? 'RequireAnyClientCert' : type), z.enum(CLIENT_AUTH_TYPES))
        .default('NoClientCert'),
      client_ca_file: z.string().min(1).optional(),
      client_ca: z.string().min(1).optional(),
      min_version: tlsVersion.default('TLS12'),
      max_version: tlsVersion.optional(),
      cipher_suites: unsupported('cipher_suites'),
      curve_preferences: unsupported('curve_preferences'),
      client_allowed_sans: unsupported('client_allowed_sans'),
      // Only a preference, not a restriction: accepted for compatibility.
      prefer_server_cipher_suites: z.boolean().optional(),
    })
    .refine((t) => (t.cert_file === undefined) !== (t.cert === undefined), {
      message: 'exactly one of cert_file and cert is required',
      path: ['cert_file'],
    })
    .refine((t) => (t.key_file === undefined) !== (t.key === undefined), {
      message: 'exactly one of key_file and key is required',
      path: ['key_file'],
    })
    .refine((t) => t.client_ca_file === undefined || t.client_ca === undefined, {
      message: 'at most one of client_ca_file and client_ca',
      path: ['client_ca_file'],
    })
    .refine(
      (t) =>
        !['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'].includes(t.client_auth_type) ||
        t.client_ca_file !== undefined ||
        t.client_ca !== undefined,
      {
        message: 'client_ca_file is required to verify client certificates',
        path: ['client_ca_file'],
      },
    )
    // As exporter-toolkit: a CA with no client certificate to check it against is a mistake, not a no-op.
    .refine((t) => t.client_auth_type !== 'NoClientCert' || (t.client_ca_file === undefined && t.client_ca === undefined), {
      message: 'client_ca_file is set but client_auth_type is NoClientCert, which never asks for a client certificate',
      path: ['client_ca_file'],
    })
    .superRefine((t, ctx) => {
      if (t.max_version !== undefined && TLS_ORDER.indexOf(t.max_version) < TLS_ORDER.indexOf(t.min_version)) {
        ctx.addIssue({
          code: 'custom',
          message: `max_version ${t.max_version} is below min_version ${t.min_version}: no TLS version is left`,
          path: ['max_version'],
        });
      }
    })
    .optional(),
  http_server_config: z
    .strictObject({
      // Node serves HTTP/1.1 only; accepted so files written for exporter-toolkit load unchanged.
      http2: z.boolean().optional(),
      headers: securityHeaders.optional(),
    })
    .optional(),
  basic_auth_users: z.record(z.string().min(1), bcryptHash).optional(),
  rate_limit: rateLimit.optional(),
});

export interface WebTls {
  readonly clientAuth: ClientAuthType;
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion | undefined;
  /** Certificate, key, client CA and versions, read when the file was loaded and known to be usable. */
  readonly context: SecureContextOptions;
  /** The files it was built from, watched for changes. */
  readonly files: readonly string[];
}

/** A validated web configuration. */
export interface WebConfig {
  readonly file: string;
  readonly tls: WebTls | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** user → bcrypt hash; empty means no authentication. */
  readonly users: ReadonlyMap<string, string>;
  /** exporter-toolkit's `rate_limit`; undefined when absent or turned off (interval 0). */
  readonly rateLimit: RateLimit | undefined;
}

export interface RateLimit {
  /** One request's worth of tokens comes back every `intervalMs`. */
  readonly intervalMs: number;
  /** Requests allowed at once after a quiet time. */
  readonly burst: number;
}

/** Reads and validates a web config file, including its certificate files. Throws a ConfigError. */
export function loadWebConfig(file: string): WebConfig {
  const { data, locate } = parseWebConfig(readConfigText(file, 'web config file'), file);
  const base = dirname(resolve(file));
  return {
    file,
    tls: data.tls_server_config && tlsOf(data.tls_server_config, base, locate),
    headers: { ...data.http_server_config?.headers },
    users: new Map(Object.entries(data.basic_auth_users ?? {})),
    rateLimit:
      data.rate_limit && data.rate_limit.interval > 0 ? { intervalMs: data.rate_limit.interval, burst: data.rate_limit.burst } : undefined,
  };
}

/** Validates a web config's text without reading the files it names. Throws a ConfigError. */
export function parseWebConfig(text: string, file: string) {
  return parseYaml(text, file, webConfigSchema);
}

function tlsOf(tls: NonNullable<z.output<typeof webConfigSchema>['tls_server_config']>, base: string, locate: Locate): WebTls {
  const files: string[] = [];
  // Paths are relative to the web config file, as in exporter-toolkit.
  const read = (field: string, path: string) => {
    const full = resolve(base, path);
    files.push(full);
    try {
      return readSmallFile(full, 'TLS file').toString('utf8');
    } catch (err) {
      throw new ConfigError(
        `${locate(['tls_server_config', field])}: tls_server_config.${field}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const cert = tls.cert ?? read('cert_file', tls.cert_file!);
  const key = tls.key ?? read('key_file', tls.key_file!);
  const ca = tls.client_ca ?? (tls.client_ca_file === undefined ? undefined : read('client_ca_file', tls.client_ca_file));
  const minVersion = TLS_VERSIONS[tls.min_version];
  const maxVersion = tls.max_version && TLS_VERSIONS[tls.max_version];
  const context = { cert, key, ca, minVersion, maxVersion };
  const unusable = (err: unknown) =>
    new ConfigError(`${locate(['tls_server_config'])}: tls_server_config: unusable certificate or key: ${(err as Error).message}`);
  let certificate: X509Certificate;
  let privateKey: KeyObject;
  try {
    certificate = new X509Certificate(cert);
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw unusable(err);
  }
  const keyField = tls.key === undefined ? 'key_file' : 'key';
  // OpenSSL keeps one key per algorithm, so an RSA certificate with an ECDSA key loads and then fails every handshake.
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(
      `${locate(['tls_server_config', keyField])}: tls_server_config.${keyField}: the key (${privateKey.asymmetricKeyType}) does not belong to the certificate (${certificate.publicKey.asymmetricKeyType})`,
    );
  }
  try {
    createSecureContext(context);
  } catch (err) {
    throw unusable(err);
  }
  return { clientAuth: tls.client_auth_type, minVersion, maxVersion, context, files };
}
