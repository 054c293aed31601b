import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUIDv7 } from "bun";
import { resolveClientIp } from "@/lib/client-ip";
import type { AppError } from "@/lib/errors";

/*
 * Per-request facts that every later stage needs (the error mapper included, which runs even
 * when parsing failed and no derived context exists). Keyed by the Request object itself.
 */
export type RequestContext = {
  requestId: string;
  startedAt: number;
  userId: string | null;
  /** Final status when an error response was produced (the framework does not expose it later). */
  status?: number;
  /** The problem `code` and `detail` of an error response (the activity log keeps them). */
  errorCode?: string;
  errorDetail?: string;
  /**
   * Input refused at parse or transform time (too deep, NUL, lone surrogates, reserved keys),
   * raised only after authentication so an anonymous caller learns nothing about its body.
   */
  inputError?: AppError;
  /** performance.now() by which the body must have arrived (REQUEST_TIMEOUT_S); set by the app. */
  deadlineAt?: number;
  /** The server that received the request, for its socket peer; null under `app.handle`. */
  server?: IpSource | null;
  /** The URL path, cut once: the headers, rate limit, error mapper and log line all read it. */
  path: string;
  /** Metrics and the log line are written once, by whichever stage produces the response. */
  observed?: boolean;
  /** The activity row was handed to the recorder (once per request, like the metrics). */
  recorded?: boolean;
  /** The resolved client address, once per request (auth, rate limit and activity all ask). */
  clientIp?: string | null;
};

type IpSource = { requestIP(request: Request): { address: string } | null };

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/*
 * The request the running code serves, for the crash policy's log line (timers inherit it). Only
 * for requests a listening server hands over, where each starts in a fresh async context:
 * `enterWith` from an `app.handle` call in a test would leak into the caller's context.
 */
const current = new AsyncLocalStorage<RequestContext>();
/* Kept on the Request itself: a WeakMap entry per request costs more than the property. */
const CONTEXT = Symbol("camp.requestContext");
type WithContext = Request & { [CONTEXT]?: RequestContext };

export function acceptRequestId(header: string | null): string {
  return header && REQUEST_ID.test(header) ? header : randomUUIDv7();
}

/**
 * `server`: the Bun server that received the request (null under `app.handle`), kept per request
 * so two apps listening in one process each read their own socket peers.
 */
export function beginRequest(request: Request, server: IpSource | null = null): RequestContext {
  const ctx: RequestContext = {
    requestId: acceptRequestId(request.headers.get("x-request-id")),
    startedAt: performance.now(),
    userId: null,
    server,
    path: urlPath(request.url),
  };
  (request as WithContext)[CONTEXT] = ctx;
  if (server) current.enterWith(ctx);
  return ctx;
}

/** The id of the request the calling code runs for, if any. */
export function currentRequestId(): string | null {
  return current.getStore()?.requestId ?? null;
}

export function requestContext(request: Request): RequestContext {
  return (request as WithContext)[CONTEXT] ?? beginRequest(request);
}

export function pathOf(request: Request): string {
  return (request as WithContext)[CONTEXT]?.path ?? urlPath(request.url);
}

function urlPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

type PeerRequest = Request & { peerIp?: string };

/** The socket peer address (tests may set `peerIp` on a hand-made Request). */
export function peerIpOf(request: Request): string | null {
  const peer = (request as PeerRequest).peerIp;
  if (peer !== undefined) return peer;
  return (request as WithContext)[CONTEXT]?.server?.requestIP(request)?.address ?? null;
}

/**
 * The client address by the trusted-proxy policy, resolved once per request: asking the server
 * for the socket peer costs more than the rest of the lookup, and several stages need it.
 */
export function clientIpOf(request: Request, trustedProxies: readonly string[]): string | null {
  const ctx = (request as WithContext)[CONTEXT];
  if (ctx?.clientIp !== undefined) return ctx.clientIp;
  const ip = resolveClientIp({ peerIp: peerIpOf(request), headers: request.headers, trustedProxies });
  if (ctx) ctx.clientIp = ip;
  return ip;
}
