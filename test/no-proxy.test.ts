// noProxy / NO_PROXY as Go's golang.org/x/net/http/httpproxy reads it (Prometheus' no_proxy), entry by entry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseNoProxy } from '../src/sources/untrusted/no-proxy.ts';

const direct = (list: string, host: string, port = '80') => parseNoProxy(list)(host, port);

describe('noProxy', () => {
  test('a domain matches itself and its subdomains; a leading dot or *. only the subdomains', () => {
    assert.equal(direct('example.com', 'example.com'), true);
    assert.equal(direct('example.com', 'api.example.com'), true);
    assert.equal(direct('example.com', 'notexample.com'), false, 'a suffix of the name, not of a label');
    assert.equal(direct('.example.com', 'api.example.com'), true);
    assert.equal(direct('.example.com', 'example.com'), false);
    assert.equal(direct('*.example.com', 'example.com'), false);
    assert.equal(direct('*.example.com', 'a.b.example.com'), true);
    assert.equal(direct(' Example.COM ', 'API.example.com'), true, 'trimmed, case-insensitive');
  });

  test('IP addresses and CIDR blocks, v4 and v6', () => {
    assert.equal(direct('10.0.0.0/8', '10.1.2.3'), true);
    assert.equal(direct('10.0.0.0/8', '11.0.0.1'), false);
    assert.equal(direct('10.0.0.0/8', 'ten.example'), false, 'a name is not resolved to be matched');
    assert.equal(direct('192.168.1.1', '192.168.1.1'), true);
    assert.equal(direct('192.168.1.1', '192.168.1.2'), false);
    assert.equal(direct('2001:db8::/32', '[2001:db8::1]'), true, 'URL hostnames keep their brackets');
    assert.equal(direct('::1', '[::1]'), true);
    assert.equal(direct('::1', '::2'), false);
  });

  test('an entry with a port matches that port only', () => {
    assert.equal(direct('example.com:8080', 'example.com', '8080'), true);
    assert.equal(direct('example.com:8080', 'example.com', '80'), false);
    assert.equal(direct('192.168.1.1:443', '192.168.1.1', '443'), true);
    assert.equal(direct('192.168.1.1:443', '192.168.1.1', '80'), false);
    assert.equal(direct('[::1]:9100', '[::1]', '9100'), true);
    assert.equal(direct('[::1]:9100', '[::1]', '9101'), false);
  });

  test('* matches everything; empty entries are skipped; localhost is proxied unless listed', () => {
    assert.equal(direct('*', 'anything.example'), true);
    assert.equal(direct(',, ,example.com,', 'example.com'), true);
    assert.equal(direct('', 'localhost'), false);
    assert.equal(direct('localhost,127.0.0.0/8', 'localhost'), true);
    assert.equal(direct('localhost,127.0.0.0/8', '127.0.0.53'), true);
  });

  test('entries that are no host, address or block are refused, naming the entry', () => {
    assert.throws(() => parseNoProxy('example.com, 10.0.0.0/33'), { message: '"10.0.0.0/33" is not a CIDR block' });
    assert.throws(() => parseNoProxy('host/24'), { message: '"host/24" is not a CIDR block' });
    assert.throws(() => parseNoProxy('a b'), { message: '"a b" is not a host name, IP address or CIDR block' });
    assert.throws(() => parseNoProxy('http://example.com'), {
      message: '"http://example.com" is not a host name, IP address or CIDR block',
    });
  });
});
