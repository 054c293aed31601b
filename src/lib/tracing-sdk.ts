import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
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
import { endSpan, NO_TRACING, type SpanIds, type Tracing, type TracingOptions } from "@/lib/tracing";

/* The OpenTelemetry SDK behind `Tracing`, loaded by `createTracing` only when an exporter is configured. */

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

export async function createSdkTracing(config: Config, options: TracingOptions = {}): Promise<Tracing> {
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
