import { describe, expect, test } from "bun:test";
import { parseRedisUrl } from "@/lib/cache/redis";

describe("parseRedisUrl", () => {
  test("plain redis URL with database path", () => {
    expect(parseRedisUrl("redis://localhost:6379/0")).toEqual({
      url: "redis://localhost:6379/0",
      tls: false,
      verifyCertificate: true,
      db: 0,
    });
    expect(parseRedisUrl("redis://127.0.0.1:6379/15").db).toBe(15);
    expect(parseRedisUrl("redis://127.0.0.1").url).toBe("redis://127.0.0.1/0");
  });

  test("the seed's Azure form keeps TLS verification and drops the redis-py parameter", () => {
    const p = parseRedisUrl("rediss://prod-cache.redis.cache.windows.net:6380?ssl_cert_reqs=required");
    expect(p).toEqual({
      url: "rediss://prod-cache.redis.cache.windows.net:6380/0",
      tls: true,
      verifyCertificate: true,
      db: 0,
    });
  });

  test("rediss without parameters verifies too", () => {
    expect(parseRedisUrl("rediss://h:6380").verifyCertificate).toBe(true);
  });

  test("ssl_cert_reqs=none is the only way to turn verification off", () => {
    expect(parseRedisUrl("rediss://h:6380?ssl_cert_reqs=none").verifyCertificate).toBe(false);
    expect(parseRedisUrl("rediss://h:6380?ssl_cert_reqs=CERT_NONE").verifyCertificate).toBe(false);
    expect(parseRedisUrl("rediss://h:6380?ssl_cert_reqs=optional").verifyCertificate).toBe(true);
    expect(parseRedisUrl("redis://h:6379?ssl_cert_reqs=none").tls).toBe(false);
  });

  test("credentials survive, other query parameters do not", () => {
    const p = parseRedisUrl("rediss://:s3cr%2Fet@h.example:6380/2?ssl_cert_reqs=required&socket_timeout=5");
    expect(p.url).toBe("rediss://:s3cr%2Fet@h.example:6380/2");
    expect(parseRedisUrl("redis://user:pw@h:1/3").url).toBe("redis://user:pw@h:1/3");
  });

  test("database from ?db= when the path has none", () => {
    expect(parseRedisUrl("redis://h:6379?db=4").db).toBe(4);
  });

  test("IPv6 host", () => {
    expect(parseRedisUrl("redis://[::1]:6379/1").url).toBe("redis://[::1]:6379/1");
  });

  test("rejects other schemes and malformed input", () => {
    expect(() => parseRedisUrl("http://h:6379")).toThrow(/redis:\/\//);
    expect(() => parseRedisUrl("not a url")).toThrow(/valid URL/);
    expect(() => parseRedisUrl("redis://h:6379/abc")).toThrow(/database/);
  });
});
