import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
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

export type TracingOptions = {
  /** Extra exporters (tests); the configured ones are added from `config`. */
  exporters?: SpanExporter[];
  /** Milliseconds between batch exports (default 5000; tests use less). */
  exportDelayMs?: number;
  /** Extra TLS trust for the Azure Monitor ingestion endpoint (a private CA; tests' loopback fake). */
  azureTls?: { ca: string };
};

/** The exporters the configuration asks for: OTLP/HTTP and/or Azure Monitor. */
export async function configuredExporters(
  config: Config,
  options: Pick<TracingOptions, "azureTls"> = {},
): Promise<SpanExporter[]> {
  const out: SpanExporter[] = [];
  if (config.otelExporterOtlpEndpoint) {
    out.push(
      new OTLPTraceExporter({
        url: otlpTracesUrl(config.otelExporterOtlpEndpoint),
        headers: { ...config.otelExporterOtlpHeaders },
      }),
    );
  }
  if (config.applicationInsightsConnectionString) {
    // Loaded only when configured: the Azure exporter pulls in a large dependency tree.
    const { AzureMonitorTraceExporter } = await import("@azure/monitor-opentelemetry-exporter");
    out.push(
      new AzureMonitorTraceExporter({
        connectionString: config.applicationInsightsConnectionString,
        // The exporter always speaks HTTPS (it rewrites an http:// IngestionEndpoint).
        ...(options.azureTls ? { tlsOptions: options.azureTls } : {}),
      }) as unknown as SpanExporter,
    );
  }
  return out;
}

/* OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; traces go to its /v1/traces (OTel spec). */
export function otlpTracesUrl(endpoint: string): string {
  return /\/v1\/traces\/?$/.test(endpoint) ? endpoint : `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}

export async function createTracing(config: Config, options: TracingOptions = {}): Promise<Tracing> {
  const exporters = [...(await configuredExporters(config, options)), ...(options.exporters ?? [])];
  if (exporters.length === 0) return NO_TRACING;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.otelServiceName,
      [ATTR_SERVICE_VERSION]: config.version,
      "deployment.environment.name": config.environment,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.otelSampleRatio) }),
    spanProcessors: exporters.map(
      (exporter) => new BatchSpanProcessor({ exporter, scheduledDelayMillis: options.exportDelayMs ?? 5000 }),
    ),
  });
  return new OtelTracing(provider.getTracer(config.appName, config.version), provider);
}

class OtelTracing implements Tracing {
  readonly enabled = true;
  /* Per app, not process-global: two apps in one process trace independently. */
  private readonly active = new AsyncLocalStorage<Span>();

  constructor(
    private readonly tracer: Tracer,
    private readonly provider: TracerProvider,
  ) {}

  private parent(): Context {
    const span = this.active.getStore();
    return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
  }

  startRequest(name: string, attributes: Attributes, enter: boolean): Span {
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, ROOT_CONTEXT);
    // Only for requests a listening server hands over, each in a fresh async context (see
    // plugins/request-context.ts): under `app.handle` it would leak into the caller's context.
    if (enter) this.active.enterWith(span);
    return span;
  }

  child(name: string, attributes: Attributes = {}, kind: SpanKind = SpanKind.CLIENT): Span {
    return this.tracer.startSpan(name, { kind, attributes }, this.parent());
  }

  async inSpan<T>(
    name: string,
    attributes: Attributes,
    fn: (span: Span | null) => Promise<T>,
    kind: SpanKind = SpanKind.CLIENT,
  ): Promise<T> {
    const span = this.child(name, attributes, kind);
    try {
      const result = await this.active.run(span, () => fn(span));
      span.end();
      return result;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  }

  activeIds(): SpanIds | null {
    const ctx = this.active.getStore()?.spanContext();
    return ctx ? { traceId: ctx.traceId, spanId: ctx.spanId } : null;
  }

  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => {});
  }
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
