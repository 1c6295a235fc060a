import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { instrumentOptions, SELF_METRICS } from '../telemetry/self-metrics.ts';
import { CollectionError } from './collection-error.ts';
import { configPath } from './config-path.ts';
import { createMapping, metricsMappingSchema, parseJson } from './json-mapping.ts';
import { secretReader, secretSchema } from './secret.ts';
import { defineSource } from './source.ts';

// An answer larger than this is refused rather than buffered.
const MAX_BODY_BYTES = 16 * 1024 * 1024;

function authSchema(configDir: string) {
  const secret = secretSchema(configDir);
  return z
    .strictObject({
      basic: z.strictObject({ username: z.string(), password: secret }).optional(),
      bearer: secret.optional(),
    })
    .superRefine((auth, ctx) => {
      if ((auth.basic === undefined) === (auth.bearer === undefined))
        ctx.addIssue({ code: 'custom', message: 'give exactly one of basic or bearer' });
    });
}

/** GETs or POSTs a URL per collection and maps its JSON answer to instruments. */
export const httpSource = defineSource({
  kind: 'http',
  description: 'JSON from an HTTP endpoint, mapped to metrics with JSONPath',
  options: ({ configDir }) =>
    z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
      method: z.enum(['GET', 'POST']).default('GET'),
      headers: z.record(z.string(), z.string()).default({}),
      body: z.string().optional(),
      auth: authSchema(configDir).optional(),
      tls: z
        .strictObject({ caFile: configPath(configDir).optional(), insecureSkipVerify: z.boolean().default(false) })
        .default({ insecureSkipVerify: false }),
      /** Status codes whose answer is used; any other fails the collection with reason `status`. */
      acceptStatus: z.array(z.int().min(100).max(599)).min(1).default([200]),
      metrics: metricsMappingSchema,
    }),
  async setup({ name, meter, options, collectionSignal }) {
    const mapping = createMapping(meter, options.metrics);
    const authorization = await authorizationHeader(options.auth);
    const ca = options.tls.caFile === undefined ? undefined : await readFile(options.tls.caFile, 'utf8');
    // custom_exporter_* instruments describe the source itself: exported even when its collection fails.
    const { httpStatusCode, httpRequestDuration } = SELF_METRICS;
    const statusCode = meter.createObservableGauge(httpStatusCode.name, instrumentOptions(httpStatusCode));
    const duration = meter.createObservableGauge(httpRequestDuration.name, instrumentOptions(httpRequestDuration));

    meter.addBatchObservableCallback(
      async (result) => {
        const started = performance.now();
        let status = 0;
        try {
          const headers = {
            accept: 'application/json',
            ...options.headers,
            ...(authorization && { authorization: await authorization() }),
          };
          const request = { method: options.method, headers, body: options.body, ca, insecure: options.tls.insecureSkipVerify };
          const answer = await send(options.url, request, collectionSignal());
          status = answer.status;
          if (!options.acceptStatus.includes(status)) {
            throw new CollectionError('status', `${options.url} answered ${status} (accepted: ${options.acceptStatus.join(', ')})`);
          }
          mapping.observe(parseJson(answer.body, `the answer of ${options.url}`), result);
        } finally {
          result.observe(statusCode, status, { source: name });
          result.observe(duration, (performance.now() - started) / 1000, { source: name });
        }
      },
      [...mapping.instruments, statusCode, duration],
    );
  },
});

async function authorizationHeader(
  auth: z.output<ReturnType<typeof authSchema>> | undefined,
): Promise<(() => Promise<string>) | undefined> {
  if (auth?.basic) {
    const { username } = auth.basic;
    const password = await secretReader(auth.basic.password, 'auth.basic.password');
    return async () => `Basic ${Buffer.from(`${username}:${await password()}`).toString('base64')}`;
  }
  if (auth?.bearer) {
    const token = await secretReader(auth.bearer, 'auth.bearer');
    return async () => `Bearer ${await token()}`;
  }
  return undefined;
}

interface Request {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  readonly ca: string | undefined;
  readonly insecure: boolean;
}

/** One request; a CollectionError `connection` when no answer arrives, aborted with the collection. */
function send(url: string, req: Request, signal: AbortSignal): Promise<{ status: number; body: string }> {
  const https = url.startsWith('https:');
  const options = { method: req.method, headers: req.headers, signal, ...(https && { ca: req.ca, rejectUnauthorized: !req.insecure }) };
  return new Promise((resolve, reject) => {
    const failed = (err: Error) =>
      reject(signal.aborted ? err : new CollectionError('connection', `${url}: ${err.message}`, { cause: err }));
    const request = (https ? httpsRequest : httpRequest)(url, options, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) request.destroy(new CollectionError('parse', `${url}: answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', failed);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', (err) => (err instanceof CollectionError ? reject(err) : failed(err)));
    request.end(req.body);
  });
}
