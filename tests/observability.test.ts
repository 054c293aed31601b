import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { buildApp } from "@/app";
import { createLogger } from "@/lib/logger";
import { testDeps } from "./helpers/context";
import { signIn } from "./helpers/users";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination: stream }) };
}

/* afterResponse hooks run once the response has been handed back, one tick later. */
const settle = () => Bun.sleep(20);

const series = (text: string, name: string) =>
  text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe("metrics and request logs", async () => {
  const { lines, logger } = capture();
  const deps = { ...(await testDeps()), logger };
  const app = buildApp(deps);
  const request = (path: string, init: RequestInit = {}) =>
    app.handle(new Request(`http://localhost${path}`, init));

  test("the seven seed metrics are exposed with their exact names and types", async () => {
    const res = await request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    for (const [name, type] of [
      ["http_requests_total", "counter"],
      ["http_request_duration_seconds", "histogram"],
      ["db_connections_active", "gauge"],
      ["cache_hits_total", "counter"],
      ["cache_misses_total", "counter"],
      ["llm_api_calls_total", "counter"],
      ["llm_api_duration_seconds", "histogram"],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}`);
    }
    expect(text).toContain("process_cpu_seconds_total");
  });

  test("endpoint is the route template; a 404 scan adds no label values", async () => {
    const u = await signIn(request, deps.config.secretKey);
    await request(`/api/v1/project/${crypto.randomUUID()}`, { headers: u.auth });
    await settle();
    const before = series(await (await request("/metrics")).text(), "http_requests_total");
    expect(before.some((l) => l.includes('endpoint="/api/v1/project/:projectId"'))).toBe(true);
    expect(before.some((l) => /endpoint="\/api\/v1\/project\/[0-9a-f-]{36}"/.test(l))).toBe(false);
    for (let i = 0; i < 1000; i++) await request(`/scan/${crypto.randomUUID()}/${i}`);
    await settle();
    const after = series(await (await request("/metrics")).text(), "http_requests_total");
    const labels = (ls: string[]) => new Set(ls.map((l) => l.slice(0, l.lastIndexOf("}") + 1)));
    const added = [...labels(after)].filter((l) => !labels(before).has(l));
    expect(added.every((l) => l.includes('endpoint="__unmatched__"'))).toBe(true);
    expect(added.length).toBeLessThanOrEqual(1);
    expect(after.some((l) => l.includes("/scan/"))).toBe(false);
  });

  test("the duration histogram observes a slow route", async () => {
    const { Elysia } = await import("elysia");
    const slowApp = buildApp(deps, {
      extend: (a: any) =>
        a.use(
          new Elysia({ name: "slow" }).get("/slow-metric", async () => {
            await Bun.sleep(300);
            return { ok: true };
          }),
        ),
    });
    await slowApp.handle(new Request("http://localhost/slow-metric"));
    await settle();
    const text = await (await request("/metrics")).text();
    const buckets = text
      .split("\n")
      .filter(
        (l) => l.startsWith("http_request_duration_seconds_bucket") && l.includes('endpoint="/slow-metric"'),
      );
    const at = (le: string) =>
      Number(
        buckets
          .find((l) => l.includes(`le="${le}"`))
          ?.split(" ")
          .pop(),
      );
    expect(at("0.25")).toBe(0);
    expect(at("0.5")).toBe(1);
  });

  test("METRICS_TOKEN protects /metrics", async () => {
    const locked = buildApp({ ...(await testDeps({ METRICS_TOKEN: "scrape-secret" })), logger });
    const get = (h: Record<string, string> = {}) =>
      locked.handle(new Request("http://localhost/metrics", { headers: h }));
    expect((await get()).status).toBe(401);
    expect((await get({ authorization: "Bearer wrong" })).status).toBe(401);
    expect((await get({ authorization: "Bearer scrape-secret" })).status).toBe(200);
  });

  test("one JSON log line per request with request id, route, status and user; never the token", async () => {
    const u = await signIn(request, deps.config.secretKey);
    lines.length = 0;
    const res = await request("/api/v1/user_account/me?token=leak-me", {
      headers: { ...u.auth, "x-request-id": "log-check-1" },
    });
    expect(res.status).toBe(200);
    await settle();
    const entries = lines.map((l) => JSON.parse(l));
    const line = entries.find((e) => e.requestId === "log-check-1");
    expect(line).toMatchObject({
      level: "info",
      method: "GET",
      route: "/api/v1/user_account/me",
      status: 200,
      userId: u.id,
    });
    expect(typeof line.durationMs).toBe("number");
    const all = lines.join("\n");
    expect(all).not.toContain(u.token);
    expect(all).not.toContain("leak-me");
    lines.length = 0;
    await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${u.token}x` } });
    await settle();
    expect(lines.join("\n")).not.toContain(u.token);
  });
});
