import { createHash } from "node:crypto";
import type { Config } from "@/config";
import type { Database, DbOrTx } from "@/db/client";
import { isUniqueViolation } from "@/db/pg-errors";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import {
  findSessionByKey,
  findUserByEmail,
  findUserById,
  findUserByOid,
  type UserRow,
} from "@/db/queries/users";
import type { VerifiedIdentity } from "@/lib/auth";
import type { Cache } from "@/lib/cache";
import { authSessionKey, authSessionTtlS, cached, userKey, userTtlS } from "@/lib/cache";
import { type AppError, problem } from "@/lib/errors";
import {
  countLogin,
  insertAuthSession,
  insertSsoUser,
  touchAuthSession,
  type UserSync,
  updateUserIdentity,
} from "./queries";

/*
 * From a verified token to the calling user: provisioning on first sight, one auth session per
 * token (or `sid`), revocation and deactivation checks. The hot path is two cache reads; the
 * database is touched only on a new session or a cache miss.
 */

/* The subset of the account every request needs, in a JSON-safe shape for the cache. */
export type CallerUser = {
  id: string;
  email: string;
  displayName: string | null;
  roles: string[];
  isActive: boolean;
  tokensValidAfter: number | null;
};

type CachedSession = { id: string; userId: string; ended: boolean; lastActivityAt: number };

export type Caller = { user: CallerUser; sessionId: string; sessionKey: string; isSystemAdmin: boolean };

export type AuthDeps = { config: Config; db: Database; cache: Cache };

const PROCESS_START = `${process.pid}:${Date.now()}`;
const ACTIVITY_WRITE_INTERVAL_MS = 60_000;

export function toCallerUser(row: UserRow): CallerUser {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    roles: row.roles,
    isActive: row.isActive,
    tokensValidAfter: row.tokensValidAfter ? row.tokensValidAfter.getTime() : null,
  };
}

export const isAdmin = (roles: readonly string[]) => roles.includes("system_admin");

/* Verified identities are remembered and reused (lib/auth), so is the session key derived from one. */
const keyOfIdentity = new WeakMap<VerifiedIdentity, { hash: string; source: "sid" | "token" | "dev" }>();

export function sessionKeyHash(
  identity: VerifiedIdentity,
  rawToken: string,
): { hash: string; source: "sid" | "token" | "dev" } {
  // Only identities that stand for one token (not the dev mock, whose key includes the process).
  if (identity.kind === "dev-mock") return computeSessionKeyHash(identity, rawToken);
  let key = keyOfIdentity.get(identity);
  if (!key) {
    key = computeSessionKeyHash(identity, rawToken);
    keyOfIdentity.set(identity, key);
  }
  return key;
}

function computeSessionKeyHash(
  identity: VerifiedIdentity,
  rawToken: string,
): { hash: string; source: "sid" | "token" | "dev" } {
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  if (identity.kind === "dev-mock") return { hash: sha(`dev:${PROCESS_START}:${rawToken}`), source: "dev" };
  // `sid` names a sign-in session at the IdP, not a person: the key also carries who the token
  // is for, so a token with a reused or forged-alike `sid` never lands in someone else's session.
  if (identity.sid) {
    const who = identity.oid ? `oid:${identity.oid}` : `email:${identity.email.trim().toLowerCase()}`;
    return { hash: sha(`sid:${identity.sid}\u0000${who}`), source: "sid" };
  }
  return { hash: sha(rawToken), source: "token" };
}

export function loadCallerUser(deps: AuthDeps, userId: string): Promise<CallerUser | null> {
  return cached(deps.cache, userKey(userId), userTtlS(deps.cache.backend), async () => {
    const row = await findUserById(deps.db, userId);
    return row ? toCallerUser(row) : null;
  });
}

function checkUsable(user: CallerUser, identity: VerifiedIdentity, ended: boolean): void {
  if (!user.isActive) throw problem("ACCOUNT_DISABLED");
  if (ended) throw revoked("This session has ended; sign in again.");
  if (
    user.tokensValidAfter !== null &&
    identity.iat !== null &&
    identity.iat * 1000 < user.tokensValidAfter
  ) {
    throw revoked("This token was issued before the account's sessions were terminated.");
  }
}

function revoked(detail: string): AppError {
  return problem("SESSION_REVOKED", {
    detail,
    headers: {
      "WWW-Authenticate": `Bearer realm="camp-backend", error="invalid_token", error_description="session revoked"`,
    },
  });
}

/** Finds, links or creates the account for a verified identity (api.md §2.2 provisioning). */
export async function provisionUser(
  tx: DbOrTx,
  config: Config,
  identity: VerifiedIdentity,
): Promise<UserRow> {
  const email = identity.email.trim();
  let user = identity.oid ? await findUserByOid(tx, identity.oid) : null;
  if (!user) {
    const byEmail = await findUserByEmail(tx, email);
    if (byEmail) {
      if (identity.oid && byEmail.azureOid && byEmail.azureOid !== identity.oid) {
        throw problem("IDENTITY_CONFLICT");
      }
      user = byEmail;
      if (identity.oid && !byEmail.azureOid) {
        user = await updateUserIdentity(tx, byEmail.id, { azureOid: identity.oid });
      }
    }
  }
  if (!user) {
    const devAdmin =
      config.environment === "development" && email.toLowerCase() === config.devMockUserEmail.toLowerCase();
    const created = await insertSsoUser(tx, {
      azureOid: identity.oid,
      email,
      name: identity.name,
      roles: devAdmin ? ["system_admin", "user"] : ["user"],
    });
    if (created) return created;
    user =
      (identity.oid ? await findUserByOid(tx, identity.oid) : null) ?? (await findUserByEmail(tx, email));
    if (!user || (identity.oid && user.azureOid && user.azureOid !== identity.oid)) {
      throw problem("IDENTITY_CONFLICT");
    }
  }
  const patch: UserSync = {};
  if (user.email !== email && identity.kind !== "dev-mock") {
    const holder = await findUserByEmail(tx, email);
    if (holder && holder.id !== user.id) {
      throw problem("IDENTITY_CONFLICT", { detail: "The token's email is held by another account." });
    }
    patch.email = email;
  }
  // A local display-name edit survives until the directory's own name changes.
  if (identity.name !== null && identity.name !== user.idpName) {
    patch.idpName = identity.name;
    patch.displayName = identity.name;
  }
  if (Object.keys(patch).length === 0) return user;
  return updateUserIdentity(tx, user.id, patch);
}

/**
 * Resolves the caller for a verified identity. A new session provisions/syncs the account,
 * counts the login and audits LOGIN_SUCCESS in one transaction.
 */
export async function resolveCaller(
  deps: AuthDeps,
  identity: VerifiedIdentity,
  rawToken: string,
  actor: Omit<AuditActor, "userId" | "email">,
  retried = false,
): Promise<Caller> {
  const { hash, source } = sessionKeyHash(identity, rawToken);
  const key = authSessionKey(hash);
  let session = deps.cache.peek?.<CachedSession>(key) ?? (await deps.cache.get<CachedSession>(key));
  if (!session) {
    const row = await findSessionByKey(deps.db, hash);
    if (row) {
      session = {
        id: row.id,
        userId: row.userId,
        ended: row.endedAt !== null,
        lastActivityAt: row.lastActivityAt.getTime(),
      };
      await deps.cache.set(key, session, authSessionTtlS(deps.cache.backend));
    }
  }
  if (session) {
    const user = await loadCallerUser(deps, session.userId);
    if (!user) throw revoked("The account of this session no longer exists.");
    checkUsable(user, identity, session.ended);
    if (Date.now() - session.lastActivityAt > ACTIVITY_WRITE_INTERVAL_MS) {
      const now = new Date();
      await touchAuthSession(deps.db, session.id, now);
      await deps.cache.set(
        key,
        { ...session, lastActivityAt: now.getTime() },
        authSessionTtlS(deps.cache.backend),
      );
    }
    return { user, sessionId: session.id, sessionKey: hash, isSystemAdmin: isAdmin(user.roles) };
  }

  const expiresAt = new Date(identity.exp ? identity.exp * 1000 : Date.now() + 24 * 3600 * 1000);
  const provision = () =>
    deps.db.transaction(async (tx) => {
      const row = await provisionUser(tx, deps.config, identity);
      const user = toCallerUser(row);
      checkUsable(user, identity, false);
      const createdId = await insertAuthSession(tx, {
        userId: user.id,
        sessionKeyHash: hash,
        keySource: source,
        ipAddress: actor.ip && /^[0-9a-fA-F:.]+$/.test(actor.ip) ? actor.ip : null,
        userAgent: actor.userAgent?.slice(0, 500) ?? null,
        expiresAt,
      });
      if (!createdId) return null; // a concurrent request created it; read it below
      await countLogin(tx, user.id);
      await writeAudit(
        tx,
        { ...actor, userId: user.id, email: user.email },
        {
          eventType: "ACCESS",
          action: "LOGIN_SUCCESS",
          resourceType: "user_session",
          resourceId: createdId,
          metadata: { kind: identity.kind, keySource: source },
        },
      );
      return { user, sessionId: createdId };
    });
  let result: Awaited<ReturnType<typeof provision>>;
  try {
    result = await provision();
  } catch (error) {
    // Two first requests of a new user at once: the other one created the account (or its email
    // link) a moment ago. Once more from the top, which now finds the account and its session.
    if (!retried && isUniqueViolation(error)) return resolveCaller(deps, identity, rawToken, actor, true);
    throw error;
  }
  if (!result) return resolveCaller(deps, identity, rawToken, actor, true);
  await deps.cache.delete(userKey(result.user.id));
  return { ...result, sessionKey: hash, isSystemAdmin: isAdmin(result.user.roles) };
}

/** Drops cached auth state so the next request on any instance re-reads the database. */
export async function invalidateUser(
  cache: Cache,
  userId: string,
  sessionKeyHashes: string[] = [],
): Promise<void> {
  await cache.delete(userKey(userId));
  for (const h of sessionKeyHashes) await cache.delete(authSessionKey(h));
}
