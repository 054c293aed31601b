import { type Attributes, type Span, type SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Config } from "@/config";

/*
 * OpenTelemetry tracing, owned by AppDeps (no global tracer provider or context manager is
 * registered): the request span is the parent of the SQL, Redis, storage and LLM spans that the
 * adapters open through `child`. When no exporter is configured the object is `NO_TRACING`, whose
 * `enabled` is false, and nothing is wrapped at all, so the hot path pays nothing.
 */

export type SpanIds = { traceId: string; spanId: string };

export interface Tracing {
  readonly enabled: boolean;
  /** Starts a request's server span; `enter` makes it the parent of the rest of the async work. */
  startRequest(name: string, attributes: Attributes, enter: boolean): Span | null;
  /** A child span of the active span (or a root span outside a request); end it yourself. */
  child(name: string, attributes?: Attributes, kind?: SpanKind): Span | null;
  /** Runs `fn` in a child span, recording a thrown error on it. */
  inSpan<T>(
    name: string,
    attributes: Attributes,
    fn: (span: Span | null) => Promise<T>,
    kind?: SpanKind,
  ): Promise<T>;
  /** The active span's ids, for log lines. */
  activeIds(): SpanIds | null;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export const NO_TRACING: Tracing = Object.freeze({
  enabled: false,
  startRequest: () => null,
  child: () => null,
  inSpan: <T>(_n: string, _a: Attributes, fn: (span: Span | null) => Promise<T>) => fn(null),
  activeIds: () => null,
  forceFlush: async () => {},
  shutdown: async () => {},
});

export type TracingOptions = {
  /** Extra exporters (tests); the configured ones are added from `config`. */
  exporters?: SpanExporter[];
  /** Milliseconds between batch exports (default 5000; tests use less). */
  exportDelayMs?: number;
  /** Extra TLS trust for the Azure Monitor ingestion endpoint (a private CA; tests' loopback fake). */
  azureTls?: { ca: string };
};

/*
 * The SDK and exporters are loaded only when something is to be exported: a process that traces
 * nothing does not even hold their modules.
 */
export async function createTracing(config: Config, options: TracingOptions = {}): Promise<Tracing> {
  const wanted =
    config.otelExporterOtlpEndpoint !== null ||
    config.applicationInsightsConnectionString !== null ||
    (options.exporters?.length ?? 0) > 0;
  if (!wanted) return NO_TRACING;
  const { createSdkTracing } = await import("./tracing-sdk");
  return createSdkTracing(config, options);
}

export function endSpan(span: Span | null, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}

/**
 * `target` with the named async methods run inside child spans; every other property passes
 * through. Used only when tracing is enabled, so an untraced adapter is the bare object.
 */
export function tracedMethods<T extends object>(
  target: T,
  tracing: Tracing,
  methods: Record<string, (args: unknown[]) => { name: string; attributes: Attributes }>,
): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj);
      const describe = typeof prop === "string" ? methods[prop] : undefined;
      if (!describe || typeof value !== "function")
        return typeof value === "function" ? value.bind(obj) : value;
      let fn = wrapped.get(prop);
      if (!fn) {
        fn = (...args: unknown[]) => {
          const { name, attributes } = describe(args);
          return tracing.inSpan(name, attributes, () =>
            (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args),
          );
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
