/*
 * Client address for rate limiting, audit and logs (decisions.md "Rate limiting"): the socket peer,
 * unless that peer is one of our TRUSTED_PROXIES — only then are `CF-Connecting-IP` and
 * `X-Forwarded-For` believed, because anyone else can write those headers.
 */

export type Ip = { v: 4 | 6; bytes: Uint8Array };
type Cidr = { v: 4 | 6; bytes: Uint8Array; prefix: number };

export type HeaderSource = { get(name: string): string | null };

export type ClientIpInput = {
  peerIp: string | null | undefined;
  headers: HeaderSource;
  /* Exact addresses or CIDR blocks, IPv4 and IPv6. */
  trustedProxies: readonly string[];
};

function parseV4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // Leading zeros are refused: some parsers read them as octal, so their meaning is ambiguous.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseV6(s: string): Uint8Array | null {
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseV4(item);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(item)) return null;
        out.push(Number.parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  let all: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return null;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

const isV4Mapped = (b: Uint8Array) =>
  b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** Parses an address, dropping brackets, an IPv6 zone and a port; IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(raw: string): Ip | null {
  let s = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.includes(":")) {
    const bytes = parseV6(s);
    if (!bytes) return null;
    return isV4Mapped(bytes) ? { v: 4, bytes: bytes.slice(12) } : { v: 6, bytes };
  }
  const v4 = parseV4(s);
  return v4 ? { v: 4, bytes: v4 } : null;
}

/* RFC 5952 text, so one address never yields two rate-limit keys. */
export function formatIp(ip: Ip): string {
  if (ip.v === 4) return Array.from(ip.bytes).join(".");
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((ip.bytes[i] << 8) | ip.bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** The canonical form of an address, or null when it is not one. */
export function normaliseIp(raw: string): string | null {
  const ip = parseIp(raw);
  return ip ? formatIp(ip) : null;
}

function parseCidr(entry: string): Cidr | null {
  const [addr, prefixText, extra] = entry.trim().split("/");
  if (extra !== undefined) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const max = ip.v === 4 ? 32 : 128;
  if (prefixText === undefined) return { ...ip, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  // A mapped address written with a v6 prefix (::ffff:10.0.0.0/104) keeps its meaning as v4.
  const prefix = Number(prefixText) - (ip.v === 4 && addr.includes(":") ? 96 : 0);
  if (prefix < 0 || prefix > max) return null;
  return { ...ip, prefix };
}

function inCidr(ip: Ip, c: Cidr): boolean {
  if (ip.v !== c.v) return false;
  const full = c.prefix >> 3;
  for (let i = 0; i < full; i++) if (ip.bytes[i] !== c.bytes[i]) return false;
  const rest = c.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip.bytes[full] & mask) === (c.bytes[full] & mask);
}

/** Entries of a TRUSTED_PROXIES list that are neither an address nor a CIDR block. */
export function invalidTrustedProxyEntries(list: readonly string[]): string[] {
  return list.filter((e) => parseCidr(e) === null);
}

export type ProxyMatcher = (ip: Ip) => boolean;

const matcherCache = new WeakMap<readonly string[], ProxyMatcher>();

/* Compiled once per list (the config's array is long-lived), not once per request. */
export function trustedProxyMatcher(list: readonly string[]): ProxyMatcher {
  const cached = matcherCache.get(list);
  if (cached) return cached;
  const blocks = list.map(parseCidr).filter((c): c is Cidr => c !== null);
  const matcher: ProxyMatcher = (ip) => blocks.some((c) => inCidr(ip, c));
  matcherCache.set(list, matcher);
  return matcher;
}

export function isTrustedProxy(address: string, list: readonly string[]): boolean {
  const ip = parseIp(address);
  return ip !== null && trustedProxyMatcher(list)(ip);
}

/**
 * The client's address: the peer, or — when the peer is a trusted proxy — `CF-Connecting-IP`,
 * else the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
 */
export function resolveClientIp({ peerIp, headers, trustedProxies }: ClientIpInput): string | null {
  if (peerIp === null || peerIp === undefined || peerIp.trim() === "") return null;
  const peer = parseIp(peerIp);
  if (!peer) return peerIp.trim();
  const peerText = formatIp(peer);
  if (trustedProxies.length === 0) return peerText;
  const trusted = trustedProxyMatcher(trustedProxies);
  if (!trusted(peer)) return peerText;

  const cf = headers.get("cf-connecting-ip");
  if (cf !== null) {
    const ip = parseIp(cf);
    if (ip) return formatIp(ip);
  }

  const xff = headers.get("x-forwarded-for");
  if (xff === null) return peerText;
  const hops = xff
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  let leftmostTrusted: string | null = null;
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = parseIp(hops[i]);
    // Our own proxy appended the right-most untrusted hop; garbage there means misconfiguration,
    // and the proxy's address is the only thing we can still vouch for.
    if (!ip) return peerText;
    if (!trusted(ip)) return formatIp(ip);
    leftmostTrusted = formatIp(ip);
  }
  // Every hop is one of ours: the request started inside the trusted network.
  return leftmostTrusted ?? peerText;
}
