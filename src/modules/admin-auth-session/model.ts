import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

export const SessionState = t.Union([t.Literal("active"), t.Literal("ended"), t.Literal("all")], {
  description: "active = not ended and not expired (default); ended; all",
  default: "active",
});

export const AuthSession = t.Object(
  {
    id: Uuid,
    user: UserRef,
    keySource: t.Union([t.Literal("sid"), t.Literal("token"), t.Literal("dev")]),
    ipAddress: t.Union([t.String(), t.Null()]),
    userAgent: t.Union([t.String(), t.Null()]),
    startedAt: Ts,
    lastActivityAt: Ts,
    expiresAt: Ts,
    endedAt: t.Union([Ts, t.Null()]),
    endReason: t.Union([
      t.Literal("MANUAL"),
      t.Literal("FORCED"),
      t.Literal("EXPIRED"),
      t.Literal("DEACTIVATED"),
      t.Null(),
    ]),
    endedBy: t.Union([UserRef, t.Null()]),
    isActive: t.Boolean(),
  },
  { title: "AuthSession", description: "One sign-in session (one token, or one `sid`)" },
);

export const SessionListQuery = Closed({
  ...PageQuery,
  userId: t.Optional(IdOf("User")),
  ipAddress: t.Optional(
    t.String({
      maxLength: 45,
      pattern: "^[0-9A-Fa-f:.]+$",
      description: "Exact client IP address (IPv4 or IPv6)",
    }),
  ),
  state: t.Optional(SessionState),
});

export const UserSessionQuery = Closed({ ...PageQuery, state: t.Optional(SessionState) });

export const SessionPage = t.Object(
  {
    items: t.Array(AuthSession),
    total: Int({ minimum: 0 }),
    skip: Int({ minimum: 0 }),
    limit: Int({ minimum: 1 }),
    stats: t.Object(
      { activeSessions: Int({ minimum: 0 }), loginsToday: Int({ minimum: 0 }) },
      { title: "AuthSessionStats" },
    ),
  },
  { title: "Page_AuthSession_WithStats" },
);

export const SessionIdParams = Closed({ sessionId: IdOf("Auth session") });
export const UserIdParams = Closed({ userId: IdOf("User") });

export const TerminateBody = Closed(
  {
    reason: t.Optional(
      t.String({ maxLength: 500, description: "Why; kept on the session and in the audit" }),
    ),
  },
  { title: "SessionTerminate" },
);

export const TerminateAllResult = t.Object(
  {
    terminatedCount: Int({ minimum: 0, description: "Sessions ended by this call" }),
    tokensValidAfter: t.String({
      format: "date-time",
      description: "Tokens issued before this instant are refused with 401 SESSION_REVOKED",
    }),
  },
  { title: "SessionTerminateAllResult" },
);
