import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { instrumentOptions, SELF_METRICS } from '../telemetry/self-metrics.ts';
import { CollectionError } from './collection-error.ts';
import { clientTlsSchema, oauth2Schema, proxySchema } from './http-client-options.ts';
import { checkHttpUrl, requestPartsReader } from './http-request-secrets.ts';
import { createMapping, metricsMappingSchema } from './json-mapping.ts';
import { producePrometheusText, withOutputCheck } from './prometheus-output.ts';
import { Redactor } from './redact.ts';
import { secretReader, secretSchema, textOrSecret } from './secret.ts';
import { defineSource } from './source.ts';
import { readRegularFile } from './untrusted/bounded-read.ts';
import { byteSize } from './untrusted/byte-size.ts';
import type { Credentials, Transport } from './untrusted/fetch-answer.ts';
import { proxyRoute } from './untrusted/proxy.ts';

function authSchema(configDir: string) {
  const secret = secretSchema(configDir);
  return z
    .strictObject({
      basic: z.strictObject({ username: z.string(), password: secret }).optional(),
      bearer: secret.optional(),
      oauth2: oauth2Schema(secret).optional(),
    })
    .superRefine((auth, ctx) => {
      if ([auth.basic, auth.bearer, auth.oauth2].filter((method) => method !== undefined).length !== 1)
        ctx.addIssue({ code: 'custom', message: 'give exactly one of basic, bearer or oauth2' });
    });
}

/** GETs or POSTs a URL per collection and maps its JSON answer to instruments. */
const httpDefinition = defineSource({
  kind: 'http',
  description: 'JSON from an HTTP endpoint mapped to metrics with JSONPath, or Prometheus text',
  options: ({ configDir }) =>
    z.strictObject({
      /** A secret (`{ env }`, `{ file }`) too: read at each request, never shown (redact.ts). */
      url: textOrSecret(configDir, z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }), checkHttpUrl),
      method: z.enum(['GET', 'POST']).default('GET'),
      headers: z.record(z.string(), textOrSecret(configDir, z.string())).default({}),
      body: textOrSecret(configDir, z.string()).optional(),
      auth: authSchema(configDir).optional(),
      tls: clientTlsSchema(configDir),
      proxy: proxySchema.optional(),
      /** At most 10, as json_exporter; off, a redirect is the answer. */
      followRedirects: z.boolean().default(true),
      /** Status codes whose answer is used; any other fails the collection with reason `status`. */
      acceptStatus: z.array(z.int().min(100).max(599)).min(1).default([200]),
      /** A larger answer (after decompression) fails the collection with reason `too_large`. */
      maxBodySize: byteSize.prefault('4MiB'),
      /** `json`: mapped by `metrics`; `prometheus`: Prometheus text or OpenMetrics, exported as written. */
      output: z.enum(['json', 'prometheus']).default('json'),
      metrics: metricsMappingSchema.optional(),
    }),
  async setup({ name, meter, options, collectionSignal, seriesLimit, produce, allowConnection }) {
    const mapping = options.metrics && createMapping(meter, options.metrics, seriesLimit);
    const startTime = Date.now();
    // The HTTP client is loaded by the first http source, not at startup (idle memory: bench/).
    const { fetchAnswer } = await import('./untrusted/fetch-answer.ts');
    // Hides what the secrets hold from this source's error messages, which are logged and shown on the landing page.
    const redactor = new Redactor();
    const requestParts = await requestPartsReader(options, redactor);
    const transport = await clientTransport(options);
    const credentials = await authorization(options.auth, transport, options.maxBodySize, redactor);
    // custom_exporter_* instruments describe the source itself: exported even when its collection fails.
    const { httpStatusCode, httpRequestDuration } = SELF_METRICS;
    const statusCode = meter.createObservableGauge(httpStatusCode.name, instrumentOptions(httpStatusCode));
    const duration = meter.createObservableGauge(httpRequestDuration.name, instrumentOptions(httpRequestDuration));

    meter.addBatchObservableCallback(
      redactor.guard(async (result) => {
        const started = performance.now();
        // Replaced by the status code as soon as one arrives: shown as is when the collection times out first.
        let status = 0;
        result.observe(statusCode, status, { source: name });
        try {
          const { url, shownUrl, headers: configured, body } = await requestParts();
          const headers = { accept: options.output === 'prometheus' ? PROMETHEUS_ACCEPT : 'application/json', ...configured };
          const signal = collectionSignal();
          const request = {
            ...transport,
            method: options.method,
            headers,
            body,
            credentials,
            followRedirects: options.followRedirects,
            acceptStatus: options.acceptStatus,
            maxBodyBytes: options.maxBodySize,
            allowConnection,
          };
          const answer = await fetchAnswer(url, request, signal, (code) => {
            status = code;
            result.observe(statusCode, status, { source: name });
          });
          if (!options.acceptStatus.includes(status)) {
            throw new CollectionError('status', `${shownUrl} answered ${status} (accepted: ${options.acceptStatus.join(', ')})`);
          }
          const what = `the answer of ${shownUrl}`;
          if (options.output === 'prometheus' || !mapping)
            await producePrometheusText(answer, what, { produce, seriesLimit, collectionSignal }, startTime);
          else await mapping.observe({ bytes: answer, format: 'json', what }, result, signal);
        } finally {
          result.observe(duration, (performance.now() - started) / 1000, { source: name });
        }
      }),
      [...(mapping?.instruments ?? []), statusCode, duration],
    );
  },
});

export const httpSource = withOutputCheck(httpDefinition);

// The text formats the parser reads, OpenMetrics first (Prometheus' own scrape Accept header, without protobuf).
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** How the source reaches its target (and its OAuth2 token endpoint): trust, client certificate, proxy. */
async function clientTransport({
  tls,
  proxy,
}: {
  tls: z.output<ReturnType<typeof clientTlsSchema>>;
  proxy?: z.output<typeof proxySchema> | undefined;
}): Promise<Transport> {
  const { clientCertificateReader } = await import('./untrusted/client-certificate.ts');
  const { certFile, keyFile } = tls;
  return {
    ca: tls.caFile === undefined ? undefined : await readCaFile(tls.caFile),
    insecure: tls.insecureSkipVerify,
    clientCertificate: certFile === undefined || keyFile === undefined ? undefined : clientCertificateReader(certFile, keyFile),
    proxy: proxy === undefined ? undefined : proxyRoute(proxy),
  };
}

// Read like a file source's file: a FIFO or device fails the start at once instead of hanging it (issue 11).
async function readCaFile(file: string): Promise<string> {
  try {
    return new TextDecoder().decode(await readRegularFile(file, { maxBytes: 1024 * 1024, field: 'the limit for CA files' }));
  } catch (err) {
    // The message names the file already.
    throw new Error(`tls.caFile: ${(err as Error).message}`);
  }
}

async function authorization(
  auth: z.output<ReturnType<typeof authSchema>> | undefined,
  transport: Transport,
  maxBodyBytes: number,
  redactor: Redactor,
): Promise<Credentials | undefined> {
  // Fixed credentials: a 401 will not change by asking again.
  const fixed = (header: () => Promise<string>): Credentials => ({ header, refused: () => false });
  const onRead = (text: string) => redactor.hide('auth', text);
  if (auth?.basic) {
    const { username } = auth.basic;
    const password = await secretReader(auth.basic.password, 'auth.basic.password', { onRead });
    return fixed(async () => `Basic ${Buffer.from(`${username}:${await password()}`).toString('base64')}`);
  }
  if (auth?.bearer) {
    const token = await secretReader(auth.bearer, 'auth.bearer', { onRead });
    return fixed(async () => `Bearer ${await token()}`);
  }
  if (auth?.oauth2) {
    const { OAuth2Token } = await import('./untrusted/oauth2.ts');
    const clientSecret = await secretReader(auth.oauth2.clientSecret, 'auth.oauth2.clientSecret', { onRead });
    return new OAuth2Token({ ...auth.oauth2, clientSecret }, transport, maxBodyBytes);
  }
  return undefined;
}
