import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CollectionError } from '../src/sources/collection-error.ts';
import { Redactor, redactUrl } from '../src/sources/redact.ts';

describe('redactUrl', () => {
  test('never shows userinfo; hides the query and fragment of a URL that came from a secret', () => {
    const url = new URL('https://user:pass@host.example:8443/api/v1?token=abc&x=1#frag');
    assert.equal(redactUrl(url, { secret: false }), 'https://<redacted>@host.example:8443/api/v1?token=abc&x=1#frag');
    assert.equal(redactUrl(url, { secret: true }), 'https://<redacted>@host.example:8443/api/v1?<redacted>#<redacted>');
    assert.equal(redactUrl(new URL('http://host/path'), { secret: true }), 'http://host/path');
    assert.equal(redactUrl(new URL('http://user@host/'), { secret: false }), 'http://<redacted>@host/');
  });
});

describe('Redactor', () => {
  test('hides a secret URL whole, as given and as parsed, and its query and password wherever they appear', () => {
    const redactor = new Redactor();
    const text = 'https://me:p%40ss@host/path?token=s3cr3t-t0ken';
    redactor.hideUrl('url', text, new URL(text), { secret: true });
    assert.equal(redactor.text(`${text} answered 500`), 'https://<redacted>@host/path?<redacted> answered 500');
    assert.equal(redactor.text('GET https://me:p%40ss@host/path?token=s3cr3t-t0ken/'), 'GET https://<redacted>@host/path?<redacted>/');
    assert.equal(redactor.text('password p@ss, query token=s3cr3t-t0ken'), 'password <redacted>, query <redacted>');
  });

  test("removes any URL's userinfo, such as a redirect's", () => {
    const redactor = new Redactor();
    assert.equal(
      redactor.text('http://a:b@127.0.0.1:1/gone: connect ECONNREFUSED; see HTTPS://x@y/'),
      'http://<redacted>@127.0.0.1:1/gone: connect ECONNREFUSED; see HTTPS://<redacted>@y/',
    );
    assert.equal(redactor.text('no URL: user@example.com'), 'no URL: user@example.com');
  });

  test('hides a secret quoted inside JSON, and any 8 characters in a row of it (a quote cut short)', () => {
    const redactor = new Redactor();
    redactor.hide('headers.x-key', 'a"b\\c-0123456789abcdef');
    assert.equal(redactor.text('value "a\\"b\\\\c-0123456789abcdef" is not a number'), 'value "<redacted>" is not a number');
    assert.equal(redactor.text('metric m: "xx-0123456789…" is not a number'), 'metric m: "xx<redacted>…" is not a number');
    // Seven characters in a row are not hidden: short runs are too common in ordinary text.
    assert.equal(redactor.text('id 0123456 ok'), 'id 0123456 ok');
  });

  test('after a rotation, hides the new text and the previous one (a collection may still be using it), not older ones', () => {
    const redactor = new Redactor();
    redactor.hide('body', 'alpha-one');
    redactor.hide('body', 'bravo-two');
    redactor.hide('body', 'charlie-three');
    assert.equal(redactor.text('alpha-one bravo-two charlie-three'), 'alpha-one <redacted> <redacted>');
  });

  test("a guarded collection's error keeps its failure reason, its message redacted and its cause dropped", async () => {
    const redactor = new Redactor();
    redactor.hide('env.TOKEN', 'tok-1234');
    const cause = new Error('echoed tok-1234');
    const collect = redactor.guard(async (thrown: unknown) => {
      throw thrown;
    });
    await assert.rejects(collect(new CollectionError('exit_code', 'script exited with 1: tok-1234', { cause })), (err: unknown) => {
      assert.ok(err instanceof CollectionError);
      assert.equal(err.reason, 'exit_code');
      assert.equal(err.message, 'script exited with 1: <redacted>');
      assert.equal(err.cause, undefined);
      return true;
    });
    await assert.rejects(collect('thrown tok-1234'), { message: 'thrown <redacted>' });
  });
});
