// Validates rendered objects with kubernetes-models and @kubernetes-models/prometheus-operator,
// and finds the fields those models silently accept although their schema does not know them.
//
// How unknown fields are found: the models' validators are compiled JSON schemas that read every
// property their schema declares (`data.spec`, `data.replicas`, ...) and enumerate the keys of
// free-form maps (labels, annotations, ConfigMap data). Running a validator over a Proxy that records
// those reads leaves the misspelled keys as the ones it never looked at.
import type { Model } from '@kubernetes-models/base';
import { PodMonitor, Probe, PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';

interface ModelClass {
  new (data?: never): Model<unknown>;
  readonly kind: string;
  readonly apiVersion: string;
  is(value: unknown): boolean;
}

/** Every kind the chart may render; anything else is a test failure. */
export const models: readonly ModelClass[] = [
  ConfigMap,
  Secret,
  Deployment,
  HorizontalPodAutoscaler,
  NetworkPolicy,
  Pod,
  PodDisruptionBudget,
  PodMonitor,
  Probe,
  PrometheusRule,
  Service,
  ServiceAccount,
  ServiceMonitor,
] as unknown as readonly ModelClass[];

export function modelFor(object: unknown): ModelClass {
  const model = models.find((m) => m.is(object));
  if (!model) {
    const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
    throw new Error(`no model for ${String(apiVersion)} ${String(kind)}`);
  }
  return model;
}

interface Trace {
  path: string;
  keys: string[];
  read: Set<string>;
  enumerated: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function traced(value: unknown, path: string, traces: Trace[]): unknown {
  if (Array.isArray(value)) return value.map((item, index) => traced(item, `${path}/${index}`, traces));
  if (!isPlainObject(value)) return value;
  const trace: Trace = { path: path || '/', keys: Object.keys(value), read: new Set(), enumerated: false };
  traces.push(trace);
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) copy[key] = traced(child, `${path}/${key}`, traces);
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') trace.read.add(key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      if (typeof key === 'string') trace.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      trace.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

/** JSON-pointer-like paths of fields the model's schema does not declare. */
export function unknownFields(object: unknown): string[] {
  const model = modelFor(object);
  const traces: Trace[] = [];
  const proxy = traced(object, '', traces);
  // The validator a model runs in validate(), applied to the recording proxy instead of a copy.
  (model.prototype.validate as (this: unknown) => void).call(proxy);
  const unknown: string[] = [];
  for (const trace of traces) {
    if (trace.enumerated) continue;
    for (const key of trace.keys) if (!trace.read.has(key)) unknown.push(`${trace.path === '/' ? '' : trace.path}/${key}`);
  }
  return unknown;
}

/** Throws the model's message for a schema violation, or lists the unknown fields. */
export function validateStrictly(object: unknown): void {
  const Model = modelFor(object);
  new Model(object as never).validate();
  const unknown = unknownFields(object);
  if (unknown.length > 0) throw new Error(`fields unknown to the ${Model.kind} schema: ${unknown.join(', ')}`);
}
