import { type Redactor, redactUrl } from './redact.ts';
import { recordReader, type Secret, type SecretReader, secretReader, type TextCheck, textReader } from './secret.ts';

/** The check an http source's `url` passes, as text or as what a secret holds. */
export const checkHttpUrl: TextCheck = (text) =>
  parseHttpUrl(text) === undefined ? 'does not hold an http:// or https:// URL' : undefined;

function parseHttpUrl(text: string): URL | undefined {
  const url = URL.parse(text);
  return url?.protocol === 'http:' || url?.protocol === 'https:' ? url : undefined;
}

/** The parts of one request that may come from secrets, read for that request. */
export interface RequestParts {
  readonly url: string;
  /** The URL as messages may show it (redactUrl). */
  readonly shownUrl: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/**
 * Reads an http source's `url`, `headers` and `body` for each request (secret files again every time, so a
 * rotated one is used by the next collection) and has `redactor` hide what they hold. A secret that cannot be
 * read now fails here, at the source's start.
 */
export async function requestPartsReader(
  options: {
    readonly url: string | Secret;
    readonly headers: Readonly<Record<string, string | Secret>>;
    readonly body?: string | Secret | undefined;
  },
  redactor: Redactor,
): Promise<() => Promise<RequestParts>> {
  const secret = typeof options.url !== 'string';
  const [url, headers, body] = await Promise.all([
    urlReader(options.url, redactor),
    recordReader(options.headers, 'headers', redactor),
    options.body === undefined ? undefined : textReader(options.body, 'body', redactor),
  ]);
  return async () => {
    const [urlText, headerValues, bodyText] = await Promise.all([url(), headers(), body?.()]);
    return { url: urlText, shownUrl: redactUrl(parseHttpUrl(urlText)!, { secret }), headers: headerValues, body: bodyText };
  };
}

async function urlReader(url: string | Secret, redactor: Redactor): Promise<SecretReader> {
  if (typeof url === 'string') {
    // Given inline: still shown without its userinfo.
    const parsed = parseHttpUrl(url)!;
    if (parsed.username !== '' || parsed.password !== '') redactor.hideUrl('url', url, parsed, { secret: false });
    return async () => url;
  }
  return secretReader(url, 'url', {
    check: checkHttpUrl,
    onRead: (text) => redactor.hideUrl('url', text, parseHttpUrl(text)!, { secret: true }),
  });
}
