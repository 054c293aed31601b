import { type Tracing, tracedMethods } from "@/lib/tracing";
import type { Cache } from "./types";

/*
 * Redis/Upstash round trips as child spans of the request (the in-process near layer sits
 * outside this wrapper, so a near hit costs no span). Keys carry ids, never values or secrets.
 */
export function tracedCache<C extends Cache>(cache: C, tracing: Tracing): C {
  if (!tracing.enabled || cache.backend === "memory") return cache;
  const system = cache.backend === "upstash" ? "redis" : cache.backend;
  const op = (operation: string) => (args: unknown[]) => ({
    name: `${cache.backend} ${operation}`,
    attributes: {
      "db.system.name": system,
      "db.operation.name": operation,
      ...(typeof args[0] === "string" ? { "cache.key": args[0] } : {}),
    },
  });
  return tracedMethods(cache, tracing, {
    get: op("GET"),
    set: op("SET"),
    delete: op("DEL"),
    deleteByPrefix: op("DEL prefix"),
    incr: op("INCR"),
    evalScript: (args) => ({
      name: `${cache.backend} EVALSHA`,
      attributes: {
        "db.system.name": system,
        "db.operation.name": "EVALSHA",
        ...(Array.isArray(args[1]) ? { "cache.key": String(args[1][0] ?? "") } : {}),
      },
    }),
    ping: op("PING"),
  });
}
