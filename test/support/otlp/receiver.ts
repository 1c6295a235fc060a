import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { freePort } from '../ports.ts';
import { EXPORT_GRPC_PATH, ExportRequest, ExportResponse } from './schema.ts';

export type Protocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface ReceivedPoint {
  readonly attributes: Record<string, unknown>;
  /** asDouble or asInt for numbers; count for histograms. */
  readonly value: number;
  readonly sum?: number;
}

export interface ReceivedMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly type: 'gauge' | 'sum' | 'histogram';
  readonly monotonic: boolean;
  readonly temporality: string | undefined;
  readonly points: readonly ReceivedPoint[];
}

export interface ReceivedExport {
  readonly at: number;
  readonly resource: Record<string, unknown>;
  readonly scopes: readonly string[];
  readonly metrics: ReadonlyMap<string, ReceivedMetric>;
}

/**
 * A stand-in OpenTelemetry Collector OTLP receiver on 127.0.0.1 that decodes what arrives as a collector would:
 * protobuf or JSON over HTTP on /v1/metrics, or the gRPC MetricsService. `failWith` makes it answer errors.
 */
export class OtlpReceiver {
  readonly protocol: Protocol;
  readonly port: number;
  readonly exports: ReceivedExport[] = [];
  /** Answer 503 (HTTP) or UNAVAILABLE (gRPC) instead of accepting. */
  failing = false;
  /** How many exports were refused while `failing`: proof that they were sent, and would have been seen. */
  refused = 0;
  #http: Server | undefined;
  #grpc: grpc.Server | undefined;
  #waiters: (() => void)[] = [];

  private constructor(protocol: Protocol, port: number) {
    this.protocol = protocol;
    this.port = port;
  }

  /** A receiver with a reserved port, not yet listening (so connections are refused until `listen`). */
  static async create(protocol: Protocol): Promise<OtlpReceiver> {
    return new OtlpReceiver(protocol, await freePort());
  }

  /** The value for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds /v1/metrics for HTTP). */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    if (this.protocol === 'grpc') {
      const server = new grpc.Server();
      server.addService(
        {
          Export: {
            path: EXPORT_GRPC_PATH,
            requestStream: false,
            responseStream: false,
            requestSerialize: (m: protobuf.Message) => Buffer.from(ExportRequest.encode(m).finish()),
            requestDeserialize: (b: Buffer) => ExportRequest.decode(b),
            responseSerialize: (m: protobuf.Message) => Buffer.from(ExportResponse.encode(m).finish()),
            responseDeserialize: (b: Buffer) => ExportResponse.decode(b),
          },
        },
        {
          Export: (call: grpc.ServerUnaryCall<protobuf.Message, protobuf.Message>, callback: grpc.sendUnaryData<protobuf.Message>) => {
            if (this.failing) {
              this.refused++;
              return callback({ code: grpc.status.UNAVAILABLE, details: 'collector overloaded' });
            }
            this.#accept(call.request);
            callback(null, ExportResponse.create({}));
          },
        },
      );
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(`127.0.0.1:${this.port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
      );
      this.#grpc = server;
      return this;
    }
    const server = createServer(async (req, res) => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') {
        res.writeHead(404).end();
        return;
      }
      const body = await readBody(req);
      if (this.failing) {
        this.refused++;
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('collector overloaded');
        return;
      }
      const json = this.protocol === 'http/json';
      const expected = json ? 'application/json' : 'application/x-protobuf';
      if (req.headers['content-type'] !== expected) {
        res.writeHead(415).end();
        return;
      }
      this.#accept(json ? ExportRequest.fromObject(JSON.parse(body.toString()) as Record<string, unknown>) : ExportRequest.decode(body));
      res.writeHead(200, { 'Content-Type': expected }).end(json ? '{}' : ExportResponse.encode(ExportResponse.create({})).finish());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#http = server;
    return this;
  }

  async close(): Promise<void> {
    if (this.#grpc) {
      this.#grpc.forceShutdown();
      this.#grpc = undefined;
    }
    if (this.#http) {
      const server = this.#http;
      this.#http = undefined;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  /** Resolves with the first export received after now that satisfies `accept`. */
  async next(accept: (e: ReceivedExport) => boolean = () => true, timeoutMs = 15_000): Promise<ReceivedExport> {
    const from = this.exports.length;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.exports.slice(from).find(accept);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no matching OTLP export within ${timeoutMs} ms (${this.exports.length - from} others arrived)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #accept(message: protobuf.Message): void {
    this.exports.push(decode(message));
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

interface KeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: number; doubleValue?: number };
}
interface NumberPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: number;
  count?: number;
  sum?: number;
}
interface Decoded {
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: {
      scope?: { name?: string };
      metrics?: {
        name: string;
        description?: string;
        unit?: string;
        gauge?: { dataPoints?: NumberPoint[] };
        sum?: { dataPoints?: NumberPoint[]; aggregationTemporality?: string; isMonotonic?: boolean };
        histogram?: { dataPoints?: NumberPoint[]; aggregationTemporality?: string };
      }[];
    }[];
  }[];
}

function decode(message: protobuf.Message): ReceivedExport {
  const request = ExportRequest.toObject(message, { longs: Number, enums: String }) as Decoded;
  const metrics = new Map<string, ReceivedMetric>();
  const scopes: string[] = [];
  let resource: Record<string, unknown> = {};
  for (const rm of request.resourceMetrics ?? []) {
    resource = attributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      scopes.push(sm.scope?.name ?? '');
      for (const m of sm.metrics ?? []) {
        const type = m.gauge ? 'gauge' : m.sum ? 'sum' : 'histogram';
        const data = m.gauge ?? m.sum ?? m.histogram;
        metrics.set(m.name, {
          name: m.name,
          description: m.description ?? '',
          unit: m.unit ?? '',
          type,
          monotonic: m.sum?.isMonotonic ?? false,
          temporality: m.sum?.aggregationTemporality ?? m.histogram?.aggregationTemporality,
          points: (data?.dataPoints ?? []).map((p) => ({
            attributes: attributes(p.attributes),
            value: type === 'histogram' ? (p.count ?? 0) : (p.asDouble ?? p.asInt ?? 0),
            ...(type === 'histogram' ? { sum: p.sum ?? 0 } : {}),
          })),
        });
      }
    }
  }
  return { at: Date.now(), resource, scopes, metrics };
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (list ?? []).map((kv) => [kv.key, kv.value?.stringValue ?? kv.value?.intValue ?? kv.value?.doubleValue ?? kv.value?.boolValue]),
  );
}
