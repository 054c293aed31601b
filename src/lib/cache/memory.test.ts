import { afterEach, describe, expect, test } from "bun:test";
import { MemoryCache } from "@/lib/cache/memory";

describe("MemoryCache", () => {
  let clock = 1_000_000;
  const now = () => clock;
  const caches: MemoryCache[] = [];
  const make = (maxEntries = 100) => {
    const c = new MemoryCache({ appName: "app", environment: "test", maxEntries, now });
    caches.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of caches.splice(0)) await c.close();
  });

  test("evicts the least recently used entry beyond maxEntries", async () => {
    const c = make(3);
    await c.set("a", 1, 60);
    await c.set("b", 2, 60);
    await c.set("c", 3, 60);
    await c.get("a");
    await c.set("d", 4, 60);
    expect(c.size).toBe(3);
    expect(await c.get("b")).toBeUndefined();
    expect(await c.get("a")).toBe(1);
    expect(await c.get("c")).toBe(3);
    expect(await c.get("d")).toBe(4);
  });

  test("expires lazily on read and in the periodic sweep", async () => {
    const c = make();
    await c.set("short", 1, 1);
    await c.set("long", 2, 100);
    clock += 1500;
    expect(c.size).toBe(2);
    expect(c.sweep()).toBe(1);
    expect(c.size).toBe(1);
    await c.set("short2", 1, 1);
    clock += 1500;
    expect(await c.get("short2")).toBeUndefined();
    expect(c.size).toBe(1);
  });

  test("incr keeps the first expiry and restarts after it", async () => {
    const c = make();
    expect(await c.incr("n", 10)).toEqual({ count: 1, ttlMs: 10_000 });
    clock += 4000;
    expect(await c.incr("n", 10)).toEqual({ count: 2, ttlMs: 6000 });
    clock += 6000;
    expect(await c.incr("n", 10)).toEqual({ count: 1, ttlMs: 10_000 });
  });

  test("deleteByPrefix does not count expired entries", async () => {
    const c = make();
    await c.set("p:1", 1, 1);
    await c.set("p:2", 1, 100);
    clock += 2000;
    expect(await c.deleteByPrefix("p:")).toBe(1);
    expect(c.size).toBe(0);
  });
});
