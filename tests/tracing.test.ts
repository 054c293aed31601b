import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { cacheFor, rateLimiterFor, storageFor } from "@/adapters";
import { buildApp } from "@/app";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import type { AppDeps } from "@/deps";
import { type LlmProvider, tracedLlm } from "@/lib/llm";
import { createLogger } from "@/lib/logger";
import { createTracing, NO_TRACING, type Tracing } from "@/lib/tracing";
import { silentLogger, testConfig, testDeps } from "./helpers/context";
import { TEST_REDIS_URL } from "./helpers/env";
import { uploadForm } from "./helpers/files";
import { world } from "./helpers/world";

/*
 * Issue #19 "Done when": the spans of one request, its SQL and its cache/storage calls included,
 * arrive at an OTLP/HTTP collector (a loopback receiver here), and the Azure Monitor exporter
 * posts to the ingestion endpoint its connection string names (a loopback fake). No real network.
 */

type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
};

function attr(span: OtlpSpan, key: string): unknown {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
}

/* A collector that accepts OTLP/HTTP JSON on /v1/traces and keeps every span. */
function startOtlpReceiver() {
  const spans: OtlpSpan[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/traces") {
        return new Response("not found", { status: 404 });
      }
      const body = (await req.json()) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      return Response.json({});
    },
  });
  return { spans, url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

async function waitFor<T>(probe: () => T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("timed out waiting");
    await Bun.sleep(25);
  }
}

/* Deps whose database, cache and storage are the traced adapters the server would build. */
async function tracedDeps(vars: Record<string, string>, tracing: Tracing) {
  const config = testConfig(vars);
  const database: DatabaseHandle = await openDatabase(config, { tracing });
  await migrateUp(database, migrationsDir(config));
  const base = await testDeps(vars, database);
  const cache = cacheFor(config, silentLogger, `trace-${Date.now()}`, tracing);
  const storage = storageFor(config, silentLogger, mkdtempSync(join(tmpdir(), "camp-trace-")), tracing);
  await storage.init();
  const deps: AppDeps = {
    ...base,
    tracing,
    cache,
    storage,
    rateLimiter: rateLimiterFor(config, cache, silentLogger),
  };
  return deps;
}

describe("OpenTelemetry over OTLP/HTTP", () => {
  const receiver = startOtlpReceiver();
  let tracing: Tracing;
  let deps: AppDeps;
  let server: { port?: number; stop: (force?: boolean) => unknown };
  const vars = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };

  beforeAll(async () => {
    tracing = await createTracing(testConfig(vars), { exportDelayMs: 50 });
    deps = await tracedDeps(vars, tracing);
    const app = buildApp(deps).listen({ hostname: "127.0.0.1", port: 0 });
    server = app.server!;
  });
  afterAll(async () => {
    await tracing.shutdown();
    server.stop(true);
    receiver.stop();
    await deps.database.close(1);
  });

  test("one upload's trace carries its route, status, request id and SQL, storage and cache spans", async () => {
    const request = (path: string, init?: RequestInit) =>
      fetch(`http://127.0.0.1:${server.port}${path}`, init);
    const { project, users } = await world(request, deps.config.secretKey, {}, "Traced");
    const requestId = `trace-${Date.now()}`;
    const res = await request(`/api/v1/project/${project.id}/file`, {
      method: "POST",
      body: uploadForm("traced.csv", "a,b\n1,2\n"),
      headers: { ...users.manager.auth, "x-request-id": requestId },
    });
    expect(res.status).toBe(201);
    await tracing.forceFlush();

    const root = await waitFor(() =>
      receiver.spans.find((s) => attr(s, "request.id") === requestId && !s.parentSpanId),
    );
    expect(root.name).toBe("POST /api/v1/project/:projectId/file");
    expect(attr(root, "http.route")).toBe("/api/v1/project/:projectId/file");
    expect(Number(attr(root, "http.response.status_code"))).toBe(201);

    const trace = receiver.spans.filter((s) => s.traceId === root.traceId && s !== root);
    const sql = trace.filter(
      (s) => attr(s, "db.system.name") === (deps.database.kind === "postgres" ? "postgresql" : "pglite"),
    );
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.some((s) => /insert/i.test(String(attr(s, "db.query.text"))))).toBe(true);
    // Parameters never reach the span, only the statement text with its placeholders.
    expect(sql.every((s) => !String(attr(s, "db.query.text")).includes("traced.csv"))).toBe(true);

    const put = trace.find((s) => s.name === "storage put");
    expect(put).toBeDefined();
    expect(attr(put!, "storage.container")).toBe("uploads");
    expect(String(attr(put!, "storage.key"))).toStartWith(`projects/${project.id}/`);

    if (TEST_REDIS_URL) {
      // The rate limiter's shared counter is a Redis round trip on every API request.
      expect(trace.some((s) => attr(s, "db.system.name") === "redis")).toBe(true);
    }
    // Every child hangs under a span of this trace (the request span, or a parent child span).
    const ids = new Set([root.spanId, ...trace.map((s) => s.spanId)]);
    expect(trace.every((s) => s.parentSpanId && ids.has(s.parentSpanId))).toBe(true);
  });

  test("log lines written while a request is traced carry its traceId and spanId", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = createLogger({ level: "info", destination, mixin: () => tracing.activeIds() ?? {} });
    const span = tracing.startRequest("GET", {}, false);
    await tracing.inSpan("work", {}, async () => logger.info("inside"));
    span?.end();
    const line = JSON.parse(lines.find((l) => l.includes("inside"))!);
    expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("LLM spans", () => {
  test("one client span per model call, with usage and finish reason, and no prompt text", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await createTracing(testConfig({}), { exporters: [exporter], exportDelayMs: 10 });
    const provider: LlmProvider = {
      name: "anthropic",
      model: "test-model",
      async *stream() {
        yield { type: "text", text: "secret answer" };
        yield { type: "usage", input: 12, output: 34 };
        yield { type: "stop", reason: "end_turn" };
      },
    };
    const llm = tracedLlm(provider, tracing);
    const req = { system: [], messages: [{ role: "user" as const, content: "secret prompt" }], tools: [] };
    const events = [];
    for await (const e of llm.stream(
      { ...req, toolChoice: "auto", maxTokens: 100, temperature: 0 },
      new AbortController().signal,
    )) {
      events.push(e);
    }
    expect(events).toHaveLength(3);
    await tracing.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe("chat test-model");
    expect(span?.attributes["gen_ai.usage.input_tokens"]).toBe(12);
    expect(span?.attributes["gen_ai.usage.output_tokens"]).toBe(34);
    expect(span?.attributes["gen_ai.response.finish_reasons"]).toEqual(["end_turn"]);
    expect(JSON.stringify(span?.attributes)).not.toContain("secret");
    await tracing.shutdown();
  });
});

describe("tracing off", () => {
  test("no exporter configured → the no-op tracer, and adapters stay unwrapped", async () => {
    const config = testConfig({});
    expect(await createTracing(config)).toBe(NO_TRACING);
    const storage = storageFor(config, silentLogger, mkdtempSync(join(tmpdir(), "camp-trace-")));
    expect(storage.constructor.name).toBe("LocalStorage");
    const cache = cacheFor(config, silentLogger, "untraced");
    expect(cache.constructor.name).not.toBe("Object");
  });
});

/* A self-signed certificate for 127.0.0.1: the Azure exporter only ever posts over HTTPS. */
function selfSigned() {
  const dir = mkdtempSync(join(tmpdir(), "ingestion-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const gen = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
    ].concat(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]),
  );
  expect(gen.exitCode).toBe(0);
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

describe.skipIf(!Bun.which("openssl"))("Azure Monitor exporter", () => {
  test("sends the spans to the ingestion endpoint named in the connection string", async () => {
    const tls = selfSigned();
    const received: { path: string; items: { name?: string; data?: { baseData?: { name?: string } } }[] }[] =
      [];
    const ingestion = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls,
      async fetch(req) {
        const url = new URL(req.url);
        let text: string;
        const bytes = new Uint8Array(await req.arrayBuffer());
        try {
          text =
            req.headers.get("content-encoding") === "gzip"
              ? new TextDecoder().decode(Bun.gunzipSync(bytes))
              : new TextDecoder().decode(bytes);
        } catch {
          text = new TextDecoder().decode(bytes);
        }
        const trimmed = text.trim();
        const items = trimmed.startsWith("[")
          ? JSON.parse(trimmed)
          : trimmed
              .split("\n")
              .filter(Boolean)
              .map((l) => JSON.parse(l));
        received.push({ path: url.pathname, items });
        return Response.json({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] });
      },
    });
    try {
      const connectionString = `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:${ingestion.port}/`;
      const tracing = await createTracing(
        testConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString }),
        { exportDelayMs: 50, azureTls: { ca: tls.cert } },
      );
      expect(tracing.enabled).toBe(true);
      const span = tracing.startRequest(
        "GET /health",
        { "http.request.method": "GET", "http.route": "/health" },
        false,
      );
      span?.setAttribute("http.response.status_code", 200);
      span?.end();
      await tracing.forceFlush();
      const hit = await waitFor(() => received.find((r) => r.path.endsWith("/track")));
      expect(hit.path).toBe("/v2.1/track");
      expect(hit.items.some((i) => i.data?.baseData?.name === "GET /health")).toBe(true);
      await tracing.shutdown();
    } finally {
      ingestion.stop(true);
    }
  });
});
