import { describe, expect, test } from "bun:test";
import { invalidTrustedProxyEntries, isTrustedProxy, normaliseIp, resolveClientIp } from "@/lib/client-ip";

const h = (init: Record<string, string> | [string, string][] = {}) => new Headers(init);

describe("normaliseIp", () => {
  test.each([
    ["203.0.113.7", "203.0.113.7"],
    [" 203.0.113.7 ", "203.0.113.7"],
    ["203.0.113.7:51234", "203.0.113.7"],
    ["::1", "::1"],
    ["[2001:db8::1]:443", "2001:db8::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["fe80::1%eth0", "fe80::1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::ffff:c000:201", "192.0.2.1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    // IPv4-compatible (deprecated) is not IPv4-mapped: it stays IPv6.
    ["::192.0.2.1", "::c000:201"],
    ["2001:db8::192.0.2.1", "2001:db8::c000:201"],
  ])("%p → %p", (input, expected) => {
    expect(normaliseIp(input)).toBe(expected);
  });

  test.each([
    "",
    "unknown",
    "256.1.1.1",
    "1.2.3",
    "01.2.3.4",
    "1.2.3.4.5",
    "1::2::3",
    "12345::",
    "1:2:3:4:5:6:7:8:9",
    "_hidden",
    "::ffff:01.2.3.4",
    "2001:db8::1.2.03.4",
    "10.1",
    "0x0a.0.0.1",
  ])("%p is not an address", (input) => {
    expect(normaliseIp(input)).toBeNull();
  });
});

describe("trusted proxy matching", () => {
  const list = ["10.0.0.0/8", "192.168.1.10", "2001:db8:abcd::/48", "::1", "172.16.0.0/12"];

  test.each([
    ["10.255.3.4", true],
    ["11.0.0.1", false],
    ["192.168.1.10", true],
    ["192.168.1.11", false],
    ["2001:db8:abcd:12::5", true],
    ["2001:db8:abce::5", false],
    ["::1", true],
    ["::ffff:10.1.2.3", true],
    ["172.31.255.255", true],
    ["172.32.0.0", false],
  ])("%p trusted = %p", (ip, expected) => {
    expect(isTrustedProxy(ip, list)).toBe(expected);
  });

  test("odd prefixes and /0", () => {
    expect(isTrustedProxy("203.0.113.130", ["203.0.113.128/25"])).toBe(true);
    expect(isTrustedProxy("203.0.113.127", ["203.0.113.128/25"])).toBe(false);
    expect(isTrustedProxy("8.8.8.8", ["0.0.0.0/0"])).toBe(true);
    expect(isTrustedProxy("2001:db8::1", ["0.0.0.0/0"])).toBe(false);
  });

  test("invalid entries are reported and never match", () => {
    const bad = ["10.0.0.0/33", "nonsense", "1.2.3.4/8/1", "::/129", "10.0.0.1/x"];
    expect(invalidTrustedProxyEntries([...bad, "10.0.0.0/8", "::/0"])).toEqual(bad);
    expect(isTrustedProxy("10.0.0.1", bad)).toBe(false);
  });
});

describe("resolveClientIp", () => {
  const trustedProxies = ["10.0.0.0/8", "2001:db8:ffff::/48"];

  test("without trusted proxies the socket peer is the client, whatever the headers say", () => {
    const headers = h({ "x-forwarded-for": "1.1.1.1", "cf-connecting-ip": "2.2.2.2" });
    expect(resolveClientIp({ peerIp: "198.51.100.4", headers, trustedProxies: [] })).toBe("198.51.100.4");
    expect(resolveClientIp({ peerIp: "198.51.100.4", headers, trustedProxies })).toBe("198.51.100.4");
  });

  test("a trusted peer: the right-most untrusted X-Forwarded-For hop", () => {
    const headers = h({ "x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.1.1.1, 10.2.2.2" });
    expect(resolveClientIp({ peerIp: "10.0.0.5", headers, trustedProxies })).toBe("203.0.113.9");
  });

  test("a spoofed left-most entry is ignored", () => {
    const headers = h({ "x-forwarded-for": "127.0.0.1, 198.51.100.23" });
    expect(resolveClientIp({ peerIp: "10.0.0.5", headers, trustedProxies })).toBe("198.51.100.23");
  });

  test("CF-Connecting-IP wins over X-Forwarded-For behind a trusted peer", () => {
    const headers = h({ "cf-connecting-ip": "2001:DB8::42", "x-forwarded-for": "203.0.113.9" });
    expect(resolveClientIp({ peerIp: "10.0.0.5", headers, trustedProxies })).toBe("2001:db8::42");
  });

  test("an unusable CF-Connecting-IP falls through to X-Forwarded-For", () => {
    const headers = h({ "cf-connecting-ip": "garbage", "x-forwarded-for": "203.0.113.9" });
    expect(resolveClientIp({ peerIp: "10.0.0.5", headers, trustedProxies })).toBe("203.0.113.9");
  });

  test("IPv6 peers, IPv4-mapped peers and ports", () => {
    const headers = h({ "x-forwarded-for": "[2001:db8:1::7]:5555, 2001:db8:ffff:1::2" });
    expect(resolveClientIp({ peerIp: "2001:db8:ffff::1", headers, trustedProxies })).toBe("2001:db8:1::7");
    const v4 = h({ "x-forwarded-for": "203.0.113.9:8080" });
    expect(resolveClientIp({ peerIp: "::ffff:10.0.0.5", headers: v4, trustedProxies })).toBe("203.0.113.9");
    expect(resolveClientIp({ peerIp: "::ffff:198.51.100.1", headers: v4, trustedProxies })).toBe(
      "198.51.100.1",
    );
  });

  test("several X-Forwarded-For header lines are read as one list", () => {
    const headers = h([
      ["x-forwarded-for", "6.6.6.6"],
      ["x-forwarded-for", "203.0.113.50, 10.9.9.9"],
    ]);
    expect(resolveClientIp({ peerIp: "10.0.0.5", headers, trustedProxies })).toBe("203.0.113.50");
  });

  test("every hop trusted → the left-most hop; no header → the peer", () => {
    const all = h({ "x-forwarded-for": "10.3.3.3, 10.4.4.4" });
    expect(resolveClientIp({ peerIp: "10.0.0.5", headers: all, trustedProxies })).toBe("10.3.3.3");
    expect(resolveClientIp({ peerIp: "10.0.0.5", headers: h(), trustedProxies })).toBe("10.0.0.5");
    expect(
      resolveClientIp({ peerIp: "10.0.0.5", headers: h({ "x-forwarded-for": " , " }), trustedProxies }),
    ).toBe("10.0.0.5");
  });

  test("garbage in the right-most untrusted hop falls back to the peer", () => {
    const headers = h({ "x-forwarded-for": "203.0.113.9, unknown" });
    expect(resolveClientIp({ peerIp: "10.0.0.5", headers, trustedProxies })).toBe("10.0.0.5");
  });

  test("no peer → null; an unparsable peer is returned as is and headers are not believed", () => {
    const headers = h({ "x-forwarded-for": "203.0.113.9" });
    expect(resolveClientIp({ peerIp: null, headers, trustedProxies })).toBeNull();
    expect(resolveClientIp({ peerIp: undefined, headers, trustedProxies })).toBeNull();
    expect(resolveClientIp({ peerIp: "unix-socket", headers, trustedProxies: ["0.0.0.0/0"] })).toBe(
      "unix-socket",
    );
  });
});
