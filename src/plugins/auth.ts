import { Elysia } from "elysia";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import type { AppDeps } from "@/deps";
import { parseBearer } from "@/lib/auth";
import type { Cache } from "@/lib/cache";
import { AppError, problem } from "@/lib/errors";
import type { ProblemCode } from "@/lib/problems";
import { type Caller, resolveCaller, sessionKeyHash } from "@/modules/auth/service";
import { clientIpOf, pathOf, requestContext } from "@/plugins/request-context";

/*
 * Auth context (api.md §4.1 stage 4): resolves the caller or records why it could not, and never
 * rejects by itself, so the rate limiter still counts failed attempts. Routes opt in with the
 * `auth` and `admin` macros; denials are audited (awaited) before the error is returned.
 */

export type AuthState = {
  caller: Caller | null;
  error: AppError | null;
  actor: AuditActor;
  clientIp: string | null;
};

async function computeAuthState(deps: AppDeps, request: Request): Promise<AuthState> {
  const ctx = requestContext(request);
  const clientIp = clientIpOf(request, deps.config.trustedProxies);
  const actor: AuditActor = {
    userId: null,
    email: null,
    ip: clientIp,
    userAgent: request.headers.get("user-agent"),
    requestId: ctx.requestId,
  };
  const header = request.headers.get("authorization");
  if (header === null) {
    // No error object here: anonymous requests to public routes are common (the rate limiter asks
    // for every request) and capturing a stack costs more than the rest of such a request.
    return { caller: null, error: null, actor, clientIp };
  }
  try {
    const token = parseBearer(header);
    const identity = await deps.verifier.verify(token);
    const caller = await resolveCaller(
      { config: deps.config, db: deps.database.db, cache: deps.cache },
      identity,
      token,
      actor,
    );
    ctx.userId = caller.user.id;
    rememberSessionOwner(deps.cache, caller.sessionKey, caller.user.id);
    return {
      caller,
      error: null,
      actor: { ...actor, userId: caller.user.id, email: caller.user.email },
      clientIp,
    };
  } catch (error) {
    if (error instanceof AppError) return { caller: null, error, actor, clientIp };
    throw error;
  }
}

function unauthenticated(detail: string): AppError {
  return problem("UNAUTHENTICATED", {
    detail,
    headers: { "WWW-Authenticate": 'Bearer realm="camp-backend"' },
  });
}

/** Records a refusal and returns the error to throw. */
export async function denied(
  deps: AppDeps,
  request: Request,
  auth: AuthState,
  error: AppError,
  extra: {
    projectId?: string | null;
    resourceType?: string;
  } = {},
): Promise<AppError> {
  const security401 = error.status === 401 || error.code === "IDENTITY_CONFLICT";
  await writeAudit(deps.database.db, auth.actor, {
    eventType: "SECURITY",
    action: security401 ? "LOGIN_FAILED" : "ACCESS_DENIED",
    resourceType: extra.resourceType ?? "route",
    projectId: extra.projectId ?? null,
    outcome: "denied",
    statusCode: error.status,
    severity: "WARNING",
    metadata: { code: error.code, method: request.method, path: pathOf(request) },
  }).catch((err) => deps.logger.error({ err }, "audit write failed"));
  return error;
}

/*
 * What `requireCaller` can answer: the token checks of lib/auth (503 when the IdP keys are
 * unreachable) and the account checks of resolveCaller. The macros document them on their routes.
 */
export const CALLER_PROBLEMS: ProblemCode[] = [
  "UNAUTHENTICATED",
  "TOKEN_INVALID",
  "TOKEN_EXPIRED",
  "SESSION_REVOKED",
  "INSUFFICIENT_SCOPE",
  "ACCOUNT_DISABLED",
  "IDENTITY_CONFLICT",
  "DEPENDENCY_UNAVAILABLE",
];

/*
 * Which user a session belongs to never changes (revocation ends a session, it does not move it),
 * so it can be remembered in process without any coherence protocol. It lets the rate limiter
 * key a warm request by its user before anything is read from the cache (see rate-limit.ts).
 */
const SESSION_OWNERS_MAX = 50_000;
const sessionOwners = new WeakMap<Cache, Map<string, string>>();

function rememberSessionOwner(cache: Cache, sessionKey: string, userId: string): void {
  let owners = sessionOwners.get(cache);
  if (!owners) {
    owners = new Map();
    sessionOwners.set(cache, owners);
  }
  if (owners.has(sessionKey)) return;
  if (owners.size >= SESSION_OWNERS_MAX) owners.delete(owners.keys().next().value as string);
  owners.set(sessionKey, userId);
}

/**
 * The user whose (already seen) session the request's token names, without touching the cache or
 * the database; null when unknown or the token does not verify. Not an authentication decision:
 * the session and account are still checked by `authStateOf`.
 */
export function knownSessionOwner(deps: AppDeps, request: Request): string | null {
  const owners = sessionOwners.get(deps.cache);
  const header = request.headers.get("authorization");
  if (!owners || header === null) return null;
  try {
    const token = parseBearer(header);
    // Only a token verified moments ago; anything else takes the full path.
    const identity = deps.verifier.peek?.(token);
    return identity ? (owners.get(sessionKeyHash(identity, token).hash) ?? null) : null;
  } catch {
    return null;
  }
}

const STATE = Symbol("camp.authState");
type WithState = Request & { [STATE]?: Promise<AuthState> };

/** The request's auth state, computed once and shared by the rate limiter and the guards. */
export function authStateOf(deps: AppDeps, request: Request): Promise<AuthState> {
  let s = (request as WithState)[STATE];
  if (!s) {
    s = computeAuthState(deps, request);
    (request as WithState)[STATE] = s;
  }
  return s;
}

/** The signed-in caller, or the (audited) 401/403 that explains why there is none. */
export async function requireCaller(
  deps: AppDeps,
  request: Request,
): Promise<{ caller: Caller; auth: AuthState }> {
  const auth = await authStateOf(deps, request);
  if (!auth.caller) {
    throw await denied(deps, request, auth, auth.error ?? unauthenticated("Authentication is required."));
  }
  return { caller: auth.caller, auth };
}

/** The signed-in system admin, or the (audited) 401/403. */
export async function requireAdmin(
  deps: AppDeps,
  request: Request,
): Promise<{ caller: Caller; auth: AuthState }> {
  const { caller, auth } = await requireCaller(deps, request);
  if (!caller.isSystemAdmin) throw await denied(deps, request, auth, problem("ADMIN_REQUIRED"));
  return { caller, auth };
}

/*
 * Authentication as a transform hook: it runs before schema validation, so a request without a
 * valid token is refused with 401 before its body is validated (or its validation failure is
 * formatted). The resolve that follows reuses the cached state.
 */
export const authenticateFirst =
  (deps: AppDeps) =>
  async ({ request }: { request: Request }): Promise<void> => {
    await requireCaller(deps, request);
  };

export function authPlugin(deps: AppDeps) {
  // No global derive: it would run on every request of the app, /health included, and the state
  // is already reachable through `authStateOf` by whoever needs it.
  return new Elysia({ name: "auth" }).macro({
    auth: {
      detail: { "x-problem-codes": CALLER_PROBLEMS },
      transform: authenticateFirst(deps),
      resolve: ({ request }) => requireCaller(deps, request),
    },
    admin: {
      detail: { "x-problem-codes": [...CALLER_PROBLEMS, "ADMIN_REQUIRED"] },
      // Refused before validation too: a non-admin learns nothing about an admin route's input.
      transform: ({ request }: { request: Request }) => requireAdmin(deps, request).then(() => undefined),
      resolve: ({ request }) => requireAdmin(deps, request),
    },
  });
}
