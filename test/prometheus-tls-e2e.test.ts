import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { loadWebConfig } from '../src/http/web-config.ts';
import { makeTestPki } from './support/certs.ts';
import { startTestExporter } from './support/exporter.ts';
import { startPrometheus } from './support/prometheus.ts';
import { requireTool } from './support/tools.ts';

test('a real Prometheus scrapes over TLS with basic auth and sees up == 1', { timeout: 60_000 }, async (t) => {
  const prometheusBinary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
  if (!prometheusBinary || !openssl) return;
  const pki = makeTestPki(openssl);
  const webFile = join(pki.dir, 'web.yml');
  writeFileSync(
    webFile,
    `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync('scrape-secret', 10)}\n`,
  );
  const passwordFile = join(pki.dir, 'password');
  writeFileSync(passwordFile, 'scrape-secret');
  const exporter = await startTestExporter('sources: [{ kind: demo }]', {
    web: { config: loadWebConfig(webFile), maxRequests: 40, protectHealth: false },
  });
  const target = `127.0.0.1:${exporter.address.port}`;
  const prometheus = await startPrometheus(prometheusBinary, [
    {
      job_name: 'secured',
      scheme: 'https',
      tls_config: { ca_file: pki.caCert },
      basic_auth: { username: 'prometheus', password_file: passwordFile },
      static_configs: [{ targets: [target] }],
    },
    // The same target with a wrong password: Prometheus must see it down (401).
    {
      job_name: 'wrong-password',
      scheme: 'https',
      tls_config: { ca_file: pki.caCert },
      basic_auth: { username: 'prometheus', password: 'guess' },
      static_configs: [{ targets: [target] }],
    },
  ]);
  try {
    await prometheus.waitFor('up{job="secured"}', (v) => v === 1);
    await prometheus.waitFor('random_number{job="secured"}', (v) => v >= 1 && v <= 20);
    await prometheus.waitFor('up{job="wrong-password"}', (v) => v === 0);
    const wrong = (await prometheus.targets()).find((x) => x.scrapeUrl.startsWith('https://') && x.health === 'down');
    assert.match(wrong?.lastError ?? '', /401/);
  } finally {
    await prometheus.stop();
    await exporter.stop();
  }
});
