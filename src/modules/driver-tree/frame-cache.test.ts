import { expect, test } from "bun:test";
import { createFrameCache, parsedBytes } from "./frame-cache";

/* The frame cache stays inside its byte budget: oldest entries go first, oversized ones are not kept. */
test("frame cache: bounded by approximate parsed bytes, least recently used out first", () => {
  const column = (n: number) => JSON.stringify({ values: Array.from({ length: n }, (_, i) => String(i)) });
  const small = column(100);
  const cache = createFrameCache(parsedBytes(small) * 3);
  for (const id of ["a", "b", "c"]) cache.set(id, JSON.parse(small), parsedBytes(small));
  expect(cache.size).toBe(3);
  cache.get("a"); // a is now the most recent; b is the oldest
  cache.set("d", JSON.parse(small), parsedBytes(small));
  expect(cache.get("b")).toBeUndefined();
  expect(cache.get("a")?.values?.length).toBe(100);
  expect(cache.bytes).toBeLessThanOrEqual(parsedBytes(small) * 3);
  const huge = column(10_000);
  cache.set("huge", JSON.parse(huge), parsedBytes(huge));
  expect(cache.get("huge")).toBeUndefined();
  expect(cache.size).toBe(3);
});
