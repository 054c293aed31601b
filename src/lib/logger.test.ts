import { describe, expect, test } from "bun:test";
import type { DestinationStream } from "pino";
import { configFrom } from "@/config";
import { createAppLogger, createLogger } from "@/lib/logger";

const TOKEN = "abc.def.ghi";

function capture(level: "info" | "debug" = "info") {
  const lines: string[] = [];
  const destination: DestinationStream = { write: (chunk: string) => void lines.push(chunk) };
  const logger = createLogger({ level, base: { app: "camp-backend" }, destination });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, any>);
  return { logger, lines, records };
}

describe("createLogger", () => {
  test("writes one JSON object per line with ts, level label, base and fields", () => {
    const { logger, lines, records } = capture();
    logger.info({ requestId: "r1", status: 200, durationMs: 1.5 }, "request");
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith("\n")).toBe(true);
    const [rec] = records();
    expect(rec.level).toBe("info");
    expect(new Date(rec.ts).toISOString()).toBe(rec.ts);
    expect(rec.app).toBe("camp-backend");
    expect(rec.pid).toBe(process.pid);
    expect(rec).toMatchObject({ requestId: "r1", status: 200, durationMs: 1.5, msg: "request" });
  });

  test("respects the level", () => {
    const { logger, lines } = capture("info");
    logger.debug("hidden");
    logger.warn("shown");
    expect(lines).toHaveLength(1);
  });

  test.each([
    ["header", { headers: { authorization: `Bearer ${TOKEN}` } }],
    ["request header", { req: { headers: { authorization: `Bearer ${TOKEN}`, cookie: `s=${TOKEN}` } } }],
    ["nested header", { upstream: { headers: { Authorization: `Bearer ${TOKEN}` } } }],
    ["accessToken", { accessToken: TOKEN }],
    ["refresh_token", { refresh_token: TOKEN }],
    ["password", { user: { password: TOKEN } }],
    ["api key", { config: { anthropicApiKey: TOKEN, AZURE_STORAGE_CONNECTION_STRING: TOKEN } }],
    ["deeply nested", { a: { b: { c: { d: { sessionToken: TOKEN } } } } }],
    ["array", { items: [{ clientSecret: TOKEN }] }],
    ["innocent key", { detail: `upstream said Bearer ${TOKEN}` }],
    ["set-cookie", { res: { headers: { "set-cookie": [`sid=${TOKEN}`] } } }],
  ])("never prints the token logged under %s", (_name, payload) => {
    const { logger, lines } = capture();
    logger.info(payload, "event");
    expect(lines.join("")).not.toContain(TOKEN);
    expect(lines.join("")).toContain("***");
  });

  test("scrubs the message, errors and child bindings", () => {
    const { logger, lines, records } = capture();
    logger.info(`got Bearer ${TOKEN}`);
    logger.error(new Error(`verify failed for Bearer ${TOKEN}`));
    logger.error({ err: Object.assign(new Error("boom"), { token: TOKEN }) }, "with err");
    logger.child({ requestId: "r2", token: TOKEN }).child({ userId: "u1" }).info("child");
    expect(lines.join("")).not.toContain(TOKEN);
    const [msg, err, errObj, child] = records();
    expect(msg.msg).toBe("got Bearer ***");
    expect(err.err.type).toBe("Error");
    expect(err.err.message).toBe("verify failed for Bearer ***");
    expect(typeof err.err.stack).toBe("string");
    expect(err.msg).toBe("verify failed for Bearer ***");
    expect(errObj.err.token).toBe("***");
    expect(child).toMatchObject({ requestId: "r2", token: "***", userId: "u1" });
  });

  test("keeps ordinary fields that only resemble secret names", () => {
    const { logger, records } = capture();
    logger.info({ author: "a", keyboard: "k", maxTokens: 100, route: "/api/v1/project/:projectId" });
    expect(records()[0]).toMatchObject({ author: "a", keyboard: "k", maxTokens: 100 });
  });
});

describe("createAppLogger", () => {
  test("uses the configured level", () => {
    const logger = createAppLogger(configFrom({ ENVIRONMENT: "development", LOG_LEVEL: "warn" }));
    expect(logger.level).toBe("warn");
  });
});
