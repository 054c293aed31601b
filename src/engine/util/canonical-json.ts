/*
 * RFC 8785 (JCS) canonical JSON for cache keys: object keys sorted by UTF-16 code units, no
 * whitespace, ECMAScript number formatting. `undefined` members are dropped as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "number":
      if (!Number.isFinite(value)) return "null";
      return JSON.stringify(value);
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(",")}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
    }
    default:
      return "null";
  }
}

export function sha256Hex(...parts: (string | Uint8Array)[]): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const p of parts) {
    if (typeof p === "string") {
      // Length-prefix every part so that ("ab","c") and ("a","bc") hash differently.
      h.update(`${p.length}:`);
      h.update(p);
    } else {
      h.update(`${p.byteLength}#`);
      h.update(p);
    }
  }
  return h.digest("hex");
}
