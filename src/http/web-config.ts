import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import { z } from 'zod';
import { readConfigText, readSmallFile } from '../config/read-config-file.ts';
import { ConfigError, type Locate, parseYaml } from '../config/yaml-document.ts';

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

// exporter-toolkit allows exactly these response headers to be set.
const SECURITY_HEADERS = [
  'Strict-Transport-Security',
  'X-Content-Type-Options',
  'X-Frame-Options',
  'X-XSS-Protection',
  'Content-Security-Policy',
] as const;

// Settings that restrict TLS further than we can honour: refusing them beats silently ignoring a restriction.
const unsupported = (what: string) =>
  z
    .unknown()
    .refine(() => false, `${what} is not supported by custom-exporter (Node.js' OpenSSL defaults apply); remove it`)
    .optional();

const BCRYPT_HASH = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

const webConfigSchema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert_file: z.string().min(1).optional(),
      key_file: z.string().min(1).optional(),
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      client_auth_type: z.enum(CLIENT_AUTH_TYPES).default('NoClientCert'),
      client_ca_file: z.string().min(1).optional(),
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
    .refine(
      (t) => !['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'].includes(t.client_auth_type) || t.client_ca_file !== undefined,
      {
        message: 'client_ca_file is required to verify client certificates',
        path: ['client_ca_file'],
      },
    )
    .optional(),
  http_server_config: z
    .strictObject({
      // Node serves HTTP/1.1 only; accepted so files written for exporter-toolkit load unchanged.
      http2: z.boolean().optional(),
      headers: z.partialRecord(z.enum(SECURITY_HEADERS), z.string()).optional(),
    })
    .optional(),
  basic_auth_users: z
    .record(z.string().min(1), z.string().regex(BCRYPT_HASH, 'must be a bcrypt hash (htpasswd -nBC 10 "" | tr -d \':\\n\')'))
    .optional(),
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
  const ca = tls.client_ca_file === undefined ? undefined : read('client_ca_file', tls.client_ca_file);
  const minVersion = TLS_VERSIONS[tls.min_version];
  const maxVersion = tls.max_version && TLS_VERSIONS[tls.max_version];
  const context = { cert, key, ca, minVersion, maxVersion };
  try {
    createSecureContext(context);
  } catch (err) {
    throw new ConfigError(`${locate(['tls_server_config'])}: tls_server_config: unusable certificate or key: ${(err as Error).message}`);
  }
  return { clientAuth: tls.client_auth_type, minVersion, maxVersion, context, files };
}
