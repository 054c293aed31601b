import ipaddr from "ipaddr.js";

/*
 * Client address for rate limiting, audit and logs (decisions.md "Rate limiting"): the socket peer,
 * unless that peer is one of our TRUSTED_PROXIES — only then are `CF-Connecting-IP` and
 * `X-Forwarded-For` believed, because anyone else can write those headers.
 *
 * Parsing, RFC 5952 formatting and CIDR matching are ipaddr.js. `proxy-addr` was not used: it
 * wants a Node request, keeps ports and garbage hops as "addresses" and knows no
 * CF-Connecting-IP, so the policy below would have to be rebuilt around it anyway.
 */

export type Ip = ipaddr.IPv4 | ipaddr.IPv6;

export type HeaderSource = { get(name: string): string | null };

export type ClientIpInput = {
  peerIp: string | null | undefined;
  headers: HeaderSource;
  /* Exact addresses or CIDR blocks, IPv4 and IPv6. */
  trustedProxies: readonly string[];
};

/*
 * Only dotted quads without leading zeros, also inside IPv6: ipaddr.js reads `10.1`, hex and
 * `010` as well, whose meaning differs between parsers.
 */
const isDottedQuad = (s: string) => ipaddr.IPv4.isValidFourPartDecimal(s) && !/(^|\.)0\d/.test(s);

/** Parses an address, dropping brackets, an IPv6 zone and a port; IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(raw: string): Ip | null {
  let s = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.includes(":")) {
    const at = s.lastIndexOf(":") + 1;
    const tail = s.slice(at);
    if (tail.includes(".")) {
      if (!isDottedQuad(tail)) return null;
      // As hex groups: ipaddr.js would read the IPv4-compatible `::a.b.c.d` as `::ffff:a.b.c.d`.
      const [a, b, c, d] = ipaddr.IPv4.parse(tail).octets;
      s = `${s.slice(0, at)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    }
    if (!ipaddr.IPv6.isValid(s)) return null;
    const v6 = ipaddr.IPv6.parse(s);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  }
  return isDottedQuad(s) ? ipaddr.IPv4.parse(s) : null;
}

/* RFC 5952 text, so one address never yields two rate-limit keys. */
export const formatIp = (ip: Ip): string =>
  ip.kind() === "ipv6" ? (ip as ipaddr.IPv6).toRFC5952String() : ip.toString();

/** The canonical form of an address, or null when it is not one. */
export function normaliseIp(raw: string): string | null {
  const ip = parseIp(raw);
  return ip ? formatIp(ip) : null;
}

function parseCidr(entry: string): [Ip, number] | null {
  const [addr, prefixText, extra] = entry.trim().split("/");
  if (extra !== undefined) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const max = ip.kind() === "ipv4" ? 32 : 128;
  if (prefixText === undefined) return [ip, max];
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  // A mapped address written with a v6 prefix (::ffff:10.0.0.0/104) keeps its meaning as v4.
  const prefix = Number(prefixText) - (ip.kind() === "ipv4" && addr.includes(":") ? 96 : 0);
  if (prefix < 0 || prefix > max) return null;
  return [ip, prefix];
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
  const blocks = list.map(parseCidr).filter((c) => c !== null);
  const matcher: ProxyMatcher = (ip) => blocks.some((c) => c[0].kind() === ip.kind() && ip.match(c));
  matcherCache.set(list, matcher);
  return matcher;
}

export function isTrustedProxy(address: string, list: readonly string[]): boolean {
  const ip = parseIp(address);
  return ip !== null && trustedProxyMatcher(list)(ip);
}

/*
 * Socket peers repeat (a proxy, a keep-alive client), and every request resolves its peer: the
 * parse and the RFC 5952 text are kept per peer string, in a bounded map emptied when full.
 */
const PEERS_MAX = 4096;
const peers = new Map<string, readonly [Ip, string] | null>();

function parsedPeer(raw: string): readonly [Ip, string] | null {
  let entry = peers.get(raw);
  if (entry === undefined) {
    const ip = parseIp(raw);
    entry = ip ? ([ip, formatIp(ip)] as const) : null;
    if (peers.size >= PEERS_MAX) peers.clear();
    peers.set(raw, entry);
  }
  return entry;
}

/**
 * The client's address: the peer, or — when the peer is a trusted proxy — `CF-Connecting-IP`,
 * else the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
 */
export function resolveClientIp({ peerIp, headers, trustedProxies }: ClientIpInput): string | null {
  if (peerIp === null || peerIp === undefined || peerIp.trim() === "") return null;
  const known = parsedPeer(peerIp);
  if (!known) return peerIp.trim();
  const [peer, peerText] = known;
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
