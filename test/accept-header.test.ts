import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_MEDIA_RANGES, parseAccept } from '../src/exposition/accept-header.ts';

const ranges = (header: string) =>
  parseAccept(header)?.map((r) => ({ type: `${r.type}/${r.subtype}`, params: Object.fromEntries(r.params), q: r.q }));

test('media ranges with parameters and weights, in header order', () => {
  assert.deepEqual(ranges('application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6, */*;q=0.2'), [
    { type: 'application/openmetrics-text', params: { version: '1.0.0', escaping: 'allow-utf-8' }, q: 0.6 },
    { type: '*/*', params: {}, q: 0.2 },
  ]);
});

test('case, whitespace, quoted values, empty list elements and empty parameters follow RFC 9110', () => {
  assert.deepEqual(ranges(' ,Text/Plain ; Version="0.0.4" ;; Q=1.000 ,, text/*\t'), [
    { type: 'text/plain', params: { version: '0.0.4' }, q: 1 },
    { type: 'text/*', params: {}, q: 1 },
  ]);
  assert.deepEqual(ranges('a/b;p="x\\"y\\\\z"'), [{ type: 'a/b', params: { p: 'x"y\\z' }, q: 1 }]);
  assert.deepEqual(ranges(''), []);
});

test('malformed headers are rejected as a whole', () => {
  for (const header of [
    'text',
    'text/',
    '/plain',
    '*/plain',
    'text/plain;version',
    'text/plain;version=',
    'text/plain;version=0.0.4 0.0.1',
    'text/plain;q=1.5',
    'text/plain;q=2',
    'text/plain;q=0.0001',
    'text/plain;q=-1',
    'text/plain;q=1e308',
    'text/plain;q=99999999999999999999',
    'text/plain;p="unterminated',
    'text/plain text/html',
    'téxt/plain',
    'text/plain;p=\u0100',
    'text/plain\u0000',
  ]) {
    assert.equal(parseAccept(header), undefined, header);
  }
});

test(`more than ${MAX_MEDIA_RANGES} ranges is malformed, at most that many is not`, () => {
  assert.equal(parseAccept(Array(MAX_MEDIA_RANGES).fill('a/b').join(','))?.length, MAX_MEDIA_RANGES);
  assert.equal(
    parseAccept(
      Array(MAX_MEDIA_RANGES + 1)
        .fill('a/b')
        .join(','),
    ),
    undefined,
  );
});

test('hostile headers take bounded time', () => {
  // Long runs that a backtracking pattern could choke on: each must be answered quickly.
  for (const header of [
    `a/b;p="${'\\"'.repeat(100_000)}`,
    `a/b;${' '.repeat(100_000)}x`,
    `${'a'.repeat(100_000)}/${'b'.repeat(100_000)};${';'.repeat(100_000)}`,
    Array(10_000).fill('text/plain;version=0.0.4;q=0.5').join(','),
  ]) {
    const started = performance.now();
    parseAccept(header);
    // A generous bound (linear work is ~1 ms here): catastrophic backtracking would take seconds.
    assert.ok(performance.now() - started < 500, `${header.slice(0, 20)}…: ${performance.now() - started} ms`);
  }
});
