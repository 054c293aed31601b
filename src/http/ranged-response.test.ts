import { describe, expect, test } from "bun:test";
import { AppError } from "@/lib/errors";
import { ifNoneMatch, parseRange, rangedResponse } from "./ranged-response";

const refused = (header: string, size: number) => {
  try {
    parseRange(header, size);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).code;
  }
  return null;
};

describe("parseRange", () => {
  test("single ranges: closed, open-ended, suffix; clamped to the size", () => {
    expect(parseRange(null, 10)).toBeNull();
    expect(parseRange("bytes=0-3", 10)).toEqual({ start: 0, end: 3 });
    expect(parseRange("bytes=4-", 10)).toEqual({ start: 4, end: 9 });
    expect(parseRange("bytes=-3", 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange("bytes=-30", 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange("bytes=5-99", 10)).toEqual({ start: 5, end: 9 });
  });

  test("malformed, multi-range and unsatisfiable ranges are 416", () => {
    for (const h of ["bytes=-", "bytes=0-1,3-4", "items=0-1", "bytes=10-", "bytes=5-2"]) {
      expect(refused(h, 10)).toBe("RANGE_NOT_SATISFIABLE");
    }
  });
});

test("ifNoneMatch: a listed tag or * matches", () => {
  expect(ifNoneMatch('"a", "b"', '"b"')).toBe(true);
  expect(ifNoneMatch("*", '"b"')).toBe(true);
  expect(ifNoneMatch('"a"', '"b"')).toBe(false);
  expect(ifNoneMatch(null, '"b"')).toBe(false);
});

describe("rangedResponse", () => {
  const bytes = new TextEncoder().encode("0123456789");
  const opened: (object | undefined)[] = [];
  const object = {
    etag: '"abc"',
    contentType: "text/plain",
    size: bytes.byteLength,
    filename: "数字.txt",
    open: async (range?: { start: number; end: number }) => {
      opened.push(range);
      const part = range ? bytes.slice(range.start, range.end + 1) : bytes;
      return new Response(part).body!;
    },
  };
  const get = (headers: Record<string, string>) => {
    const set = { headers: {} as Record<string, string | number> };
    return rangedResponse(new Request("http://x/", { headers }), set, object).then((r) => ({ r, set }));
  };

  test("200 with the whole body and its headers, also copied to set", async () => {
    const { r, set } = await get({});
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("0123456789");
    expect(r.headers.get("content-length")).toBe("10");
    expect(r.headers.get("accept-ranges")).toBe("bytes");
    expect(r.headers.get("content-disposition")).toContain("filename*=UTF-8''");
    expect(set.headers.ETag).toBe('"abc"');
    expect(set.headers["Cache-Control"]).toBe("private, no-cache");
  });

  test("206 for a range; 304 without opening the object", async () => {
    const { r } = await get({ range: "bytes=2-4" });
    expect(r.status).toBe(206);
    expect(await r.text()).toBe("234");
    expect(r.headers.get("content-range")).toBe("bytes 2-4/10");
    opened.length = 0;
    const { r: cached } = await get({ "if-none-match": '"abc"', range: "bytes=2-4" });
    expect(cached.status).toBe(304);
    expect(opened).toEqual([]);
  });
});
