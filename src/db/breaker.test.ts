import { describe, expect, test } from "bun:test";
import { AppError } from "@/lib/errors";
import { createBreaker } from "./breaker";

describe("database circuit breaker", () => {
  test("open: refuses with 503 + Retry-After at once; probes until the database answers, then closes", async () => {
    let up = false;
    let probes = 0;
    const breaker = createBreaker({
      probe: async () => {
        probes++;
        if (!up) throw new Error("ECONNREFUSED");
      },
      probeIntervalMs: 20,
    });
    expect(() => breaker.check()).not.toThrow();
    breaker.trip(new Error("down"));
    breaker.trip(new Error("again")); // idempotent
    let refused: unknown;
    try {
      breaker.check();
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).status).toBe(503);
    expect((refused as AppError).code).toBe("DEPENDENCY_UNAVAILABLE");
    expect((refused as AppError).headers["Retry-After"]).toBe("1");
    await Bun.sleep(110);
    expect(breaker.isOpen).toBe(true);
    expect(probes).toBeGreaterThanOrEqual(2);
    up = true;
    await Bun.sleep(80);
    expect(breaker.isOpen).toBe(false);
    expect(breaker.stats().trips).toBe(1);
    const after = probes;
    await Bun.sleep(60);
    expect(probes).toBe(after); // no probing while closed
    breaker.stop();
  });
});
