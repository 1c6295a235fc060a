import { CollectionError } from '../collection-error.ts';
import { type AnswerRequest, type Credentials, fetchAnswer, type Transport } from './fetch-answer.ts';

/** The `auth.oauth2` options of an http source, the secret already made a reader. */
export interface OAuth2Settings {
  readonly clientId: string;
  readonly clientSecret: () => Promise<string>;
  readonly tokenUrl: string;
  readonly scopes: readonly string[];
  readonly endpointParams: Readonly<Record<string, string>>;
}

// golang.org/x/oauth2 (and so Prometheus) treats a token as expired 10 s early (its expiryDelta), so that it does
// not run out on the way; a token that lives less than twice that is replaced at half its life instead.
const EXPIRY_MARGIN_MS = 10_000;

/**
 * The client credentials grant (RFC 6749 §4.4): a token asked for with the client's id and secret, kept until
 * shortly before it expires. The token request goes through the source's transport (proxy, TLS), is bounded by the
 * collection's signal and body cap, and its failures are CollectionErrors naming the token endpoint.
 */
export class OAuth2Token implements Credentials {
  readonly #settings: OAuth2Settings;
  readonly #transport: Transport;
  readonly #maxBodyBytes: number;
  #cached: { header: string; renewAt: number } | undefined;

  constructor(settings: OAuth2Settings, transport: Transport, maxBodyBytes: number) {
    this.#settings = settings;
    this.#transport = transport;
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** The Authorization header for the next request: the cached token, or a new one. */
  async header(signal: AbortSignal): Promise<string> {
    if (this.#cached !== undefined && performance.now() < this.#cached.renewAt) return this.#cached.header;
    this.#cached = undefined;
    const asked = performance.now();
    const { header, lifetimeMs } = await this.#request(signal);
    const renewAt = lifetimeMs === undefined ? Number.POSITIVE_INFINITY : asked + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2);
    this.#cached = { header, renewAt };
    return header;
  }

  /** The target answered 401 to `header`: it is not used again (revoked, or the clocks disagree); a new one is worth a try. */
  refused(header: string): boolean {
    if (this.#cached?.header === header) this.#cached = undefined;
    return true;
  }

  async #request(signal: AbortSignal): Promise<{ header: string; lifetimeMs: number | undefined }> {
    const { clientId, clientSecret, tokenUrl, scopes, endpointParams } = this.#settings;
    const form = new URLSearchParams({ ...endpointParams, grant_type: 'client_credentials' });
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    // RFC 6749 §2.3.1: the id and secret are form-encoded, then sent as HTTP Basic credentials.
    const credentials = `${formEncode(clientId)}:${formEncode(await clientSecret())}`;
    const request: AnswerRequest = {
      ...this.#transport,
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
      },
      body: form.toString(),
      followRedirects: true,
      // §5.2: a refusal is a 400 or 401 whose body says why.
      acceptStatus: [200, 400, 401],
      maxBodyBytes: this.#maxBodyBytes,
    };
    const what = `the oauth2 token endpoint ${tokenUrl}`;
    let status = 0;
    let body: Uint8Array;
    try {
      body = await fetchAnswer(tokenUrl, request, signal, (code) => (status = code));
    } catch (err) {
      if (err instanceof CollectionError) throw new CollectionError(err.reason, `${what}: ${err.message}`, { cause: err });
      throw err;
    }
    const answer = parseJson(body);
    if (status !== 200) {
      const error = typeof answer?.error === 'string' && /^[\w.-]{1,64}$/.test(answer.error) ? ` (${answer.error})` : '';
      throw new CollectionError('status', `${what} answered ${status}${error}`);
    }
    const token = answer?.access_token;
    // A header value: visible ASCII only (RFC 6750 §2.1 b64token), so it can never split the request.
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token))
      throw new CollectionError('parse', `${what}: the answer has no usable access_token`);
    const type = answer?.token_type;
    const scheme = typeof type !== 'string' || type === '' || type.toLowerCase() === 'bearer' ? 'Bearer' : type;
    if (!/^[\w-]+$/.test(scheme)) throw new CollectionError('parse', `${what}: the token_type is not a word`);
    // Some servers send expires_in as a string; none, or 0, means no stated expiry: kept until the target refuses it.
    const seconds = Number(answer?.expires_in);
    return { header: `${scheme} ${token}`, lifetimeMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined };
  }
}

function parseJson(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** application/x-www-form-urlencoded, as RFC 6749 Appendix B asks for the client's id and secret. */
const formEncode = (text: string) => new URLSearchParams({ x: text }).toString().slice(2);
