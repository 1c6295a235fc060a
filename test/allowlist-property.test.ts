// Property: no target outside the rules is allowed. Targets are drawn as a model (a host name as labels, or an IPv4
// address as a number; a path as segments) and rendered in the many spellings a URL parser accepts for it (cases,
// trailing dots, percent-encoding, hex/octal/short IPv4 forms, IPv4-mapped IPv6, dot segments, user info). The
// oracle judges the model, never the rendered string, so it shares no parsing with the allowlist.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Allowlist } from '../src/probe/allowlist.ts';

const allowlist = new Allowlist({
  hosts: ['*.internal', 'app.example.com'],
  cidrs: ['10.0.0.0/8'],
  urlPrefixes: ['https://api.example.com/v1/'],
});

type Host = { readonly name: readonly string[] } | { readonly ip: number };
interface Target {
  readonly scheme: '' | 'http' | 'https';
  readonly host: Host;
  readonly port: number | undefined;
  readonly path: readonly string[];
  readonly userinfo: string | undefined;
}

/** The oracle, on the model: what the rules in `allowlist` mean, written out by hand. */
function oracle(target: Target): boolean {
  if (target.userinfo !== undefined) return false;
  if ('ip' in target.host) return target.host.ip >>> 24 === 10;
  const labels = target.host.name;
  if (labels.length === 2 && labels[1] === 'internal') return true;
  const name = labels.join('.');
  if (name === 'app.example.com') return true;
  if (name !== 'api.example.com' || target.scheme !== 'https' || (target.port !== undefined && target.port !== 443)) return false;
  const resolved: string[] = [];
  for (const segment of target.path) {
    if (segment === '..') resolved.pop();
    else if (segment !== '.') resolved.push(segment);
  }
  return resolved[0] === 'v1';
}

const LABELS = ['app', 'api', 'example', 'com', 'internal', 'db', 'evil', 'x-1', 'v1'];

const modelArb: fc.Arbitrary<Target> = fc.record({
  scheme: fc.constantFrom('' as const, 'http' as const, 'https' as const),
  host: fc.oneof(
    fc.record({ name: fc.array(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 4 }) }),
    // The allowed names and their near misses, drawn often enough to matter.
    fc.record({
      name: fc.constantFrom(
        ['db', 'internal'],
        ['app', 'example', 'com'],
        ['api', 'example', 'com'],
        ['internal'],
        ['db', 'internal', 'evil'],
      ),
    }),
    fc.record({
      ip: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0x0a000001, 0x7f000001, 0xa9fea9fe, 0x0b000000, 0x09ffffff)),
    }),
  ),
  port: fc.option(fc.constantFrom(80, 443, 8080, 9100), { nil: undefined }),
  path: fc.array(fc.constantFrom('v1', 'v2', 'admin', '..', '.'), { maxLength: 4 }),
  userinfo: fc.option(fc.constantFrom('user', 'app.example.com', 'a.internal:pw', '10.0.0.1'), { nil: undefined }),
});

/** The ways one IPv4 address can be written that the WHATWG URL parser (and inet_aton) read as the same address. */
const ipSpellings = (ip: number): string[] => {
  const bytes = [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff];
  return [
    bytes.join('.'),
    bytes.map((b) => `0x${b.toString(16)}`).join('.'),
    bytes.map((b) => `0${b.toString(8)}`).join('.'),
    String(ip),
    `0x${ip.toString(16)}`,
    `${bytes[0]}.${ip & 0xffffff}`,
    `${bytes[0]}.${bytes[1]}.${ip & 0xffff}`,
  ];
};

/** The model as a target string, in a drawn spelling. */
const renderArb = (target: Target): fc.Arbitrary<string> =>
  fc
    .record({
      spelling: fc.nat(),
      upper: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
      trailingDot: fc.boolean(),
      percent: fc.boolean(),
      mapped: fc.boolean(),
    })
    .map(({ spelling, upper, trailingDot, percent, mapped }) => {
      const url = target.scheme !== '';
      let host: string;
      if ('ip' in target.host) {
        const spellings = ipSpellings(target.host.ip);
        host = url && mapped ? `[::ffff:${spellings[0]}]` : spellings[spelling % spellings.length]!;
      } else {
        host = [...target.host.name.join('.')].map((c, i) => (upper[i % 64] ? c.toUpperCase() : c)).join('');
        if (trailingDot) host += '.';
        // The URL parser decodes a percent-encoded host before anything else reads it.
        if (url && percent) host = host.replace(/[a-z]/i, (c) => `%${c.charCodeAt(0).toString(16)}`);
      }
      const authority = `${target.userinfo === undefined ? '' : `${target.userinfo}@`}${host}${target.port === undefined ? '' : `:${target.port}`}`;
      if (!url) return authority;
      return `${target.scheme}://${authority}/${target.path.map((segment) => `${segment}/`).join('')}`;
    });

const drawn = modelArb.chain((target) => renderArb(target).map((text) => ({ target, text })));

test('no target outside the rules is allowed, however it is spelled', () => {
  let allowedSeen = 0;
  fc.assert(
    fc.property(drawn, ({ target, text }) => {
      const verdict = allowlist.checkTarget(text);
      if (verdict.allowed) {
        allowedSeen++;
        assert.ok(oracle(target), `${text} was allowed, but the rules do not allow ${JSON.stringify(target)}`);
      }
    }),
    { numRuns: 20_000, seed: 13 },
  );
  // Positive control: the property is not vacuously true of a list that refuses everything.
  assert.ok(allowedSeen > 400, `only ${allowedSeen} targets were allowed`);
});

test('every target the rules allow is allowed, in its plain spelling', () => {
  fc.assert(
    fc.property(modelArb, (target) => {
      const plain = { ...target, userinfo: undefined };
      const text = fc.sample(renderArb(plain), { numRuns: 1, seed: 1 })[0]!;
      if (oracle(plain) && !/%/.test(text)) assert.deepEqual(allowlist.checkTarget(text), { allowed: true }, text);
    }),
    { numRuns: 2_000, seed: 14 },
  );
});

test('arbitrary strings: an allowed target always names a host the rules allow', () => {
  const anything = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.webUrl({ withFragments: true, withQueryParameters: true }),
    fc
      .tuple(
        fc.constantFrom('http://', 'https://', ''),
        fc.string({ maxLength: 10 }),
        fc.constantFrom('a.internal', 'api.example.com/v1/', '10.0.0.1'),
      )
      .map((parts) => parts.join('')),
  );
  fc.assert(
    fc.property(anything, (text) => {
      if (!allowlist.checkTarget(text).allowed) return;
      assert.ok(text.length <= 2048);
      assert.ok(![...text].some((c) => c.codePointAt(0)! <= 0x20 || /\s/.test(c)), `${JSON.stringify(text)}: whitespace or control`);
      const host = new URL(/^https?:\/\//i.test(text) ? text : `http://${text}`).hostname.replace(/\.$/, '');
      assert.ok(/^[a-z0-9_-]+\.internal$|^app\.example\.com$|^api\.example\.com$|^10\.\d+\.\d+\.\d+$/.test(host), `${text}: ${host}`);
    }),
    { numRuns: 20_000, seed: 15 },
  );
});
