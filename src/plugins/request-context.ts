import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUIDv7 } from "bun";
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
  /**
   * Input refused at parse or transform time (too deep, NUL, lone surrogates, reserved keys),
   * raised only after authentication so an anonymous caller learns nothing about its body.
   */
  inputError?: AppError;
  /** performance.now() by which the body must have arrived (REQUEST_TIMEOUT_S); set by the app. */
  deadlineAt?: number;
};

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/*
 * The request the running code serves, for the crash policy's log line (timers inherit it). Only
 * under a listening server, where each request starts in a fresh async context: `enterWith` from
 * an `app.handle` call in a test would leak into the caller's context.
 */
const current = new AsyncLocalStorage<RequestContext>();
let trackCurrent = false;
/* Kept on the Request itself: a WeakMap entry per request costs more than the property. */
const CONTEXT = Symbol("camp.requestContext");
type WithContext = Request & { [CONTEXT]?: RequestContext };

export function acceptRequestId(header: string | null): string {
  return header && REQUEST_ID.test(header) ? header : randomUUIDv7();
}

export function beginRequest(request: Request): RequestContext {
  const ctx: RequestContext = {
    requestId: acceptRequestId(request.headers.get("x-request-id")),
    startedAt: performance.now(),
    userId: null,
  };
  (request as WithContext)[CONTEXT] = ctx;
  if (trackCurrent) current.enterWith(ctx);
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
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

type PeerRequest = Request & { peerIp?: string };
type IpSource = { requestIP(request: Request): { address: string } | null };
let listening: IpSource | null = null;

/** Set by the entry point once it listens, so the socket peer of any request can be read. */
export function setListeningServer(server: IpSource | null): void {
  listening = server;
  trackCurrent = server !== null;
}

/** The socket peer address (tests may set `peerIp` on a hand-made Request). */
export function peerIpOf(request: Request): string | null {
  return (request as PeerRequest).peerIp ?? listening?.requestIP(request)?.address ?? null;
}
