// checkTarget, rule by rule and trick by trick: every hostile form of a target is judged on what the HTTP client
// would really connect to.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Allowlist, type AllowlistConfig, allowlistSchema, MAX_TARGET_LENGTH } from '../src/probe/allowlist.ts';

/** [target, allowed?, the refusal's reason when not] */
type Row = readonly [string, true] | readonly [string, false, RegExp];

function table(config: AllowlistConfig, rows: readonly Row[]) {
  const allowlist = new Allowlist(config);
  for (const [target, allowed, reason] of rows) {
    test(`${JSON.stringify(target).slice(0, 80)} is ${allowed ? 'allowed' : 'refused'}`, () => {
      const verdict = allowlist.checkTarget(target);
      if (allowed) assert.deepEqual(verdict, { allowed: true });
      else {
        assert.equal(verdict.allowed, false);
        assert.match((verdict as { reason: string }).reason, reason!);
      }
    });
  }
}

const NOT_LISTED = /is not in the module's allow list/;

describe('nothing listed refuses everything', () => {
  test('the list is empty', () => assert.equal(new Allowlist({}).empty, true));
  table({}, [
    ['localhost', false, NOT_LISTED],
    ['http://example.com/', false, NOT_LISTED],
    ['10.0.0.1', false, NOT_LISTED],
  ]);
});

describe('allowAny', () => {
  test('the list is not empty', () => assert.equal(new Allowlist({ allowAny: true }).empty, false));
  table({ allowAny: true }, [
    ['anything.example', true],
    ['http://169.254.169.254/latest/meta-data', true],
    // Still refused: what is not a target at all.
    ['', false, /empty/],
    ['a b', false, /whitespace or control/],
    ['file:///etc/passwd', false, /file: targets are not allowed/],
  ]);
});

describe('host globs', () => {
  table({ hosts: ['*.internal', 'shop-?.example.com', '**.corp.example', 'exact.example.org', 'bücher.de'] }, [
    ['db.internal', true],
    ['DB.Internal', true],
    ['db.internal.', true], // the same name, fully qualified
    ['db.internal:9100', true],
    ['http://db.internal:8080/metrics', true],
    ['https://db.internal/', true],
    ['a.db.internal', false, NOT_LISTED], // * stays within one label
    ['internal', false, NOT_LISTED], // * is at least one character
    ['db.internal..', false, /not a valid host name/],
    ['db.internal.evil.net', false, NOT_LISTED],
    ['evil.net', false, NOT_LISTED],
    ['shop-1.example.com', true],
    ['shop-12.example.com', false, NOT_LISTED],
    ['shop-.example.com', false, NOT_LISTED],
    ['shop-..example.com', false, /not a valid host name/],
    ['a.corp.example', true],
    ['a.b.c.corp.example', true],
    ['corp.example', false, NOT_LISTED],
    ['exact.example.org', true],
    ['exactxexample.org', false, NOT_LISTED], // the dot is literal
    ['sub.exact.example.org', false, NOT_LISTED],
    // Unicode is compared as the punycode the client looks up, in the pattern and in the target.
    ['bücher.de', true],
    ['xn--bcher-kva.de', true],
    ['BÜCHER.de', true],
    ['bucher.de', false, NOT_LISTED],
    // Percent-encoding in a host is decoded by the URL parser: judged as decoded.
    ['http://%64b.internal/', true],
    ['http://db.internal%2eevil.net/', false, NOT_LISTED],
    ['http://db%2einternal/', true],
    // A glob never matches an IP address, however written.
    ['10.0.0.1', false, NOT_LISTED],
  ]);
});

describe('userinfo and fragment tricks', () => {
  table({ hosts: ['allowed.example'] }, [
    ['http://allowed.example@evil.net/', false, /user info/],
    ['http://allowed.example:x@evil.net/', false, /user info/],
    ['http://user@allowed.example/', false, /user info/],
    ['http://@allowed.example/', false, /user info/],
    ['http://:@allowed.example/', false, /user info/],
    ['http:///@allowed.example/', false, /user info/],
    ['http:\\\\@allowed.example/', false, /not a URL, host, host:port or IP/],
    ['http://evil.net@allowed.example@evil.net/', false, /user info/],
    ['http://evil.net#@allowed.example/', false, /http:\/\/evil\.net\/ is not in/],
    ['http://evil.net?@allowed.example/', false, /http:\/\/evil\.net\/ is not in/],
    ['http://evil.net\\@allowed.example/', false, /http:\/\/evil\.net\/@allowed\.example\/ is not in/],
    ['allowed.example@evil.net', false, /not a URL, host, host:port or IP/],
    ['evil.net#allowed.example', false, /not a URL, host, host:port or IP/],
    ['allowed.example/x', false, /not a URL, host, host:port or IP/],
  ]);
});

describe('cidrs and IP addresses in odd notations', () => {
  table({ cidrs: ['10.0.0.0/8', 'fd00::/8', '192.168.1.1/32'] }, [
    ['10.1.2.3', true],
    ['10.1.2.3:9100', true],
    ['http://10.1.2.3:8080/x', true],
    ['11.0.0.1', false, NOT_LISTED],
    ['192.168.1.1', true],
    ['192.168.1.2', false, NOT_LISTED],
    // The URL parser's IPv4 forms: hex, octal, fewer parts, one number. Judged as the dotted quad they are.
    ['0xa.1', true],
    ['012.0.0.1', true],
    ['167772161', true],
    ['10.1', true],
    ['0x7f.1', false, /127\.0\.0\.1 is not in/],
    ['2130706433', false, /127\.0\.0\.1 is not in/],
    ['127.1', false, /127\.0\.0\.1 is not in/],
    ['http://0177.0.0.1/', false, /127\.0\.0\.1\/ is not in/],
    ['08.0.0.1', false, /not a valid URL/],
    ['1.2.3.4.5', false, /not a valid URL/],
    // IPv6: bare, bracketed, with a port; IPv4-mapped addresses are their IPv4 address.
    ['fd00::1', true],
    ['[fd00::1]', true],
    ['[fd00::1]:9100', true],
    ['http://[FD00::1]:9100/', true],
    ['fe80::1', false, NOT_LISTED],
    ['::1', false, NOT_LISTED],
    ['[::ffff:10.0.0.1]', true],
    ['[::ffff:127.0.0.1]', false, NOT_LISTED],
    ['http://[::ffff:7f00:1]/', false, NOT_LISTED],
    // Zones name an interface, not a host: refused in every spelling.
    ['fe80::1%eth0', false, /not a URL, host, host:port or IP/],
    ['[fd00::1%eth0]', false, /not a URL, host, host:port or IP/],
    ['http://[fd00::1%25eth0]/', false, /not a valid URL/],
    // Names are never allowed by cidrs alone: where they resolve is not known yet.
    ['localhost', false, NOT_LISTED],
  ]);
});

describe('URL prefixes', () => {
  table({ urlPrefixes: ['https://api.example.com/v1/', 'http://status.example.com/health'] }, [
    ['https://api.example.com/v1/', true],
    ['https://api.example.com/v1/users?id=1', true],
    ['https://API.example.com:443/v1/x', true],
    ['https://api.example.com./v1/x', true],
    ['https://api.example.com/v1', false, NOT_LISTED],
    ['https://api.example.com/v10/', false, NOT_LISTED],
    ['https://api.example.com/v1/../admin', false, /api\.example\.com\/admin is not in/],
    ['https://api.example.com/v1/%2e%2e/admin', false, /api\.example\.com\/admin is not in/],
    ['https://api.example.com/v1/..%2fadmin', false, /encoded dot, slash or backslash/],
    ['https://api.example.com/v1/%2E%2E%5cadmin', false, /encoded dot, slash or backslash/],
    ['https://api.example.com/v1\\..\\..\\admin', false, /api\.example\.com\/admin is not in/],
    ['https://api.example.com.evil.net/v1/', false, NOT_LISTED],
    ['https://api.example.com:8443/v1/', false, NOT_LISTED],
    ['http://api.example.com/v1/', false, NOT_LISTED],
    ['https://evil.net/https://api.example.com/v1/', false, NOT_LISTED],
    ['api.example.com', false, NOT_LISTED], // a bare host is not under a URL prefix
    ['http://status.example.com/health', true],
    ['http://status.example.com/health/deep', true],
    ['http://status.example.com/healthz', false, NOT_LISTED],
  ]);
});

describe('malformed and huge targets', () => {
  table({ hosts: ['**.example'] }, [
    ['', false, /empty/],
    [' a.example', false, /whitespace or control/],
    ['a.example ', false, /whitespace or control/],
    ['a\t.example', false, /whitespace or control/], // the URL parser would drop the tab and read a.example
    ['http://a.exa\nmple/', false, /whitespace or control/],
    ['a.example\u0000', false, /whitespace or control/],
    ['a.example\u200b', false, /whitespace or control/],
    ['a.example\u00a0', false, /whitespace or control/],
    ['a.example:99999', false, /not a valid URL/],
    ['a.example:', false, /not a URL, host, host:port or IP/],
    ['a.example:http', false, /not a URL, host, host:port or IP/],
    ['javascript://a.example/', false, /javascript: targets are not allowed/],
    ['//a.example/', false, /not a URL, host, host:port or IP/],
    ['http://*.example/', false, /not a valid host name/],
    ['http://a_b.example/', true],
    [`${'a.'.repeat(1000)}example`, true],
    [`${'a.'.repeat(1100)}example`, false, new RegExp(`longer than ${MAX_TARGET_LENGTH} characters`)],
    [`http://a.example/${'x'.repeat(100_000)}`, false, /longer than/],
  ]);
});

describe('the allow: block is checked at load', () => {
  const schema = allowlistSchema();
  const rejects = (value: unknown, message: RegExp) => {
    const result = schema.safeParse(value);
    assert.equal(result.success, false);
    assert.match(result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'), message);
  };
  test('valid rules load', () => {
    const config = { hosts: ['*.internal', '**.corp', 'a-?.b'], cidrs: ['10.0.0.0/8', 'fd00::/8'], urlPrefixes: ['https://a/v1/'] };
    assert.deepEqual(schema.parse(config), config);
  });
  test('an IP address among hosts', () => rejects({ hosts: ['10.0.0.1'] }, /hosts\.0: 10\.0\.0\.1: an IP address goes in cidrs/));
  test('a misplaced **', () => rejects({ hosts: ['a**.corp'] }, /hosts\.0: a\*\*\.corp: not a host name glob/));
  test('a host with a port', () => rejects({ hosts: ['a.corp:80'] }, /hosts\.0: a\.corp:80: not a host name glob/));
  test('a CIDR without prefix', () => rejects({ cidrs: ['10.0.0.0'] }, /cidrs\.0: 10\.0\.0\.0: not a CIDR range/));
  test('a prefix too long', () => rejects({ cidrs: ['10.0.0.0/33'] }, /cidrs\.0: .*not a CIDR range/));
  test('an IPv6 prefix too long', () => rejects({ cidrs: ['fd00::/129'] }, /cidrs\.0: .*not a CIDR range/));
  test('a URL prefix that is not a URL', () => rejects({ urlPrefixes: ['api.example.com/v1'] }, /urlPrefixes\.0: .*not a URL/));
  test('a URL prefix with user info', () => rejects({ urlPrefixes: ['https://u@a/'] }, /urlPrefixes\.0: .*no user info/));
  test('a URL prefix of another scheme', () => rejects({ urlPrefixes: ['ftp://a/'] }, /only http and https/));
  test('an unknown key', () => rejects({ host: ['a'] }, /host/));
  test('allowAny is a boolean', () => rejects({ allowAny: 'yes' }, /allowAny/));
});

describe('checkConnection: the URL and the addresses its name resolved to', () => {
  const pinned = new Allowlist({ hosts: ['*.internal'], cidrs: ['10.0.0.0/8', 'fd00::/8'] });
  const unpinned = new Allowlist({ hosts: ['*.internal'] });
  const url = new URL('http://db.internal:8080/metrics');
  const rows: readonly [string, Allowlist, URL, readonly string[], RegExp | undefined][] = [
    ['every address inside the cidrs', pinned, url, ['10.0.0.1', 'fd00::5'], undefined],
    ['one address outside (DNS rebinding, a mixed answer)', pinned, url, ['10.0.0.1', '169.254.169.254'], /resolves to 169\.254\.169\.254/],
    ['an IPv4-mapped address outside', pinned, url, ['::ffff:127.0.0.1'], /resolves to ::ffff:127\.0\.0\.1/],
    ['an IPv4-mapped address inside', pinned, url, ['::ffff:10.1.1.1'], undefined],
    ['no addresses (a proxy resolves it)', pinned, url, [], /cannot check the addresses/],
    [
      'a name the hosts do not allow, whatever it resolves to',
      pinned,
      new URL('http://evil.net/'),
      ['10.0.0.1'],
      /not in the module's allow list/,
    ],
    ['an IP URL inside the cidrs', pinned, new URL('http://10.2.3.4/'), ['10.2.3.4'], undefined],
    ['an IP URL outside the cidrs', pinned, new URL('http://[::1]/'), ['::1'], /not in the module's allow list/],
    ['without cidrs, names resolve anywhere', unpinned, url, ['127.0.0.1'], undefined],
    ['allowAny', new Allowlist({ allowAny: true }), new URL('http://x/'), ['127.0.0.1'], undefined],
  ];
  for (const [name, allowlist, target, addresses, reason] of rows) {
    test(name, () => {
      const verdict = allowlist.checkConnection(target, addresses);
      if (reason === undefined) assert.deepEqual(verdict, { allowed: true });
      else {
        assert.equal(verdict.allowed, false);
        assert.match((verdict as { reason: string }).reason, reason);
      }
    });
  }
});
