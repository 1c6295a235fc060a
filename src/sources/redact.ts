import { CollectionError } from './collection-error.ts';

/** What is shown in place of a secret. */
const REDACTED = '<redacted>';

// Shortest run of a secret's characters hidden when a message quotes only part of it.
const PIECE = 8;

// `scheme://userinfo@`: credentials in any URL, including one a redirect pointed to.
const USERINFO = /\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#@]+@/gi;

/**
 * A URL as it may be shown: never its userinfo (`https://<redacted>@host/`), and, for a URL that came from a
 * secret, not its query or fragment either (`https://host/path?<redacted>`), where tokens travel.
 */
export function redactUrl(url: URL, { secret }: { secret: boolean }): string {
  const userinfo = url.username !== '' || url.password !== '' ? `${REDACTED}@` : '';
  const query = secret && url.search !== '' ? `?${REDACTED}` : url.search;
  const fragment = secret && url.hash !== '' ? `#${REDACTED}` : url.hash;
  return `${url.protocol}//${userinfo}${url.host}${url.pathname}${query}${fragment}`;
}

/**
 * Hides what one source's secrets hold from every message the source produces: its collection errors are
 * logged and shown on the landing page, and may quote a URL, a program's stderr or a target's answer that
 * echoes a header. A field's text is hidden once it has been read; the text it held before stays hidden too,
 * since a collection that read it may still be running when the secret is rotated.
 */
export class Redactor {
  readonly #fields = new Map<string, { current: Map<string, string>; previous: Map<string, string> }>();
  #pattern: RegExp | undefined;
  #shownAs = new Map<string, string>();

  /** `field`'s secret now holds `text`: hidden from here on. */
  hide(field: string, text: string): void {
    this.#remember(field, new Map([[text, REDACTED]]));
  }

  /**
   * `field` now holds the URL `text`: shown as redactUrl shows it; its password (and, when it is a `secret`, its
   * query and fragment) hidden wherever they appear.
   */
  hideUrl(field: string, text: string, url: URL, { secret }: { secret: boolean }): void {
    const shown = redactUrl(url, { secret });
    const hidden = new Map([
      [text, shown],
      [url.href, shown],
    ]);
    const parts = [url.password, decodeUriComponentOrAsIs(url.password)];
    if (secret) parts.push(url.search.slice(1), /\?([^#]*)/.exec(text)?.[1] ?? '', url.hash.slice(1));
    for (const part of parts) if (part !== '' && !hidden.has(part)) hidden.set(part, REDACTED);
    this.#remember(field, hidden);
  }

  /** `message` with every secret hidden and every URL's userinfo removed. */
  text(message: string): string {
    const whole = this.#pattern === undefined ? message : message.replace(this.#pattern, (found) => this.#shownAs.get(found) ?? REDACTED);
    return this.#withoutPieces(whole).replace(USERINFO, `$1${REDACTED}@`);
  }

  /**
   * Messages quote text cut short (a value up to 80 characters, the end of a program's stderr, a JSON parser's
   * excerpt), which can cut a secret too: any PIECE characters in a row of a secret are hidden as well.
   */
  #withoutPieces(message: string): string {
    const secrets = [...this.#shownAs].filter(([text, shown]) => shown === REDACTED && text.length >= PIECE).map(([text]) => text);
    if (secrets.length === 0) return message;
    const hidden = new Array<boolean>(message.length).fill(false);
    for (let at = 0; at + PIECE <= message.length; at++) {
      const piece = message.slice(at, at + PIECE);
      if (secrets.some((secret) => secret.includes(piece))) hidden.fill(true, at, at + PIECE);
    }
    let result = '';
    for (let at = 0; at < message.length; at++) {
      if (!hidden[at]) result += message[at];
      else if (at === 0 || !hidden[at - 1]) result += REDACTED;
    }
    return result;
  }

  /** `callback` (a source's collection) with the errors it throws redacted. */
  guard<A extends unknown[]>(callback: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
    return async (...args) => {
      try {
        await callback(...args);
      } catch (err) {
        throw this.#error(err);
      }
    };
  }

  // The same failure reason, the message redacted, and no cause, which could quote a secret too.
  #error(err: unknown): Error {
    const message = this.text(err instanceof Error ? err.message : String(err));
    return err instanceof CollectionError ? new CollectionError(err.reason, message) : new Error(message);
  }

  #remember(field: string, hidden: Map<string, string>): void {
    // A secret quoted inside JSON (a target's answer in an error) is escaped.
    for (const [text, shown] of [...hidden]) hidden.set(JSON.stringify(text).slice(1, -1), shown);
    const before = this.#fields.get(field);
    if (before && sameKeys(before.current, hidden)) return;
    this.#fields.set(field, { current: hidden, previous: before?.current ?? new Map() });
    this.#shownAs = new Map([...this.#fields.values()].flatMap(({ current, previous }) => [...previous, ...current]));
    this.#shownAs.delete('');
    // Longest first, so a URL is replaced whole before the query inside it.
    const texts = [...this.#shownAs.keys()].sort((a, b) => b.length - a.length);
    this.#pattern = texts.length === 0 ? undefined : new RegExp(texts.map(escapeRegExp).join('|'), 'g');
  }
}

function sameKeys(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a.keys()].every((key) => b.has(key));
}

function decodeUriComponentOrAsIs(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
