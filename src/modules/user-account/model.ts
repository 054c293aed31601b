import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

export const SystemRole = t.Union([t.Literal("system_admin"), t.Literal("user")]);

export const UserAccount = t.Object(
  {
    id: Uuid,
    azureOid: t.Union([t.String(), t.Null()]),
    email: t.String(),
    displayName: t.Union([t.String(), t.Null()]),
    roles: t.Array(SystemRole),
    isSystemAdmin: t.Boolean(),
    isActive: t.Boolean(),
    source: t.Union([t.Literal("sso"), t.Literal("import"), t.Literal("seed")]),
    lastLoginAt: t.Union([Ts, t.Null()]),
    loginCount: Int(),
    deactivatedAt: t.Union([Ts, t.Null()]),
    createdAt: Ts,
    updatedAt: Ts,
  },
  { title: "UserAccount" },
);

export const NotificationSettings = t.Object(
  {
    email: t.Boolean(),
    memberChanges: t.Boolean(),
    fileUploaded: t.Boolean(),
    sessionCompleted: t.Boolean(),
    treeUpdated: t.Boolean(),
    systemAnnouncement: t.Boolean(),
  },
  { title: "NotificationSettings" },
);
export const DisplaySettings = t.Object(
  {
    itemsPerPage: Int({ minimum: 10, maximum: 100 }),
    defaultProjectView: t.Union([t.Literal("grid"), t.Literal("list")]),
    showWelcomeMessage: t.Boolean(),
  },
  { title: "DisplaySettings" },
);
const Theme = t.Union([t.Literal("light"), t.Literal("dark"), t.Literal("system")]);
const Language = t.Union([t.Literal("ja"), t.Literal("en")]);

export const UserSettings = t.Object(
  {
    theme: Theme,
    language: Language,
    timezone: t.String(),
    notifications: NotificationSettings,
    display: DisplaySettings,
    updatedAt: Ts,
  },
  { title: "UserSettings" },
);

export const UserSettingsPatch = Closed(
  {
    theme: t.Optional(Theme),
    language: t.Optional(Language),
    timezone: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
    notifications: t.Optional(
      Closed({
        email: t.Optional(t.Boolean()),
        memberChanges: t.Optional(t.Boolean()),
        fileUploaded: t.Optional(t.Boolean()),
        sessionCompleted: t.Optional(t.Boolean()),
        treeUpdated: t.Optional(t.Boolean()),
        systemAnnouncement: t.Optional(t.Boolean()),
      }),
    ),
    display: t.Optional(
      Closed({
        itemsPerPage: t.Optional(Int({ minimum: 10, maximum: 100 })),
        defaultProjectView: t.Optional(t.Union([t.Literal("grid"), t.Literal("list")])),
        showWelcomeMessage: t.Optional(t.Boolean()),
      }),
    ),
  },
  { title: "UserSettingsPatch" },
);

export const UserContext = t.Object(
  {
    user: UserAccount,
    permissions: t.Object({
      isSystemAdmin: t.Boolean(),
      canAccessAdminPanel: t.Boolean(),
      canManageUsers: t.Boolean(),
      canManageMasters: t.Boolean(),
      canViewAuditLogs: t.Boolean(),
    }),
    navigation: t.Object({
      projectCount: Int(),
      defaultProjectId: t.Union([Uuid, t.Null()]),
      defaultProjectName: t.Union([t.String(), t.Null()]),
      projectNavigationType: t.Union([t.Literal("list"), t.Literal("detail")]),
    }),
    notifications: t.Object({ unreadCount: Int() }),
    announcements: t.Object({ activeCount: Int() }),
    maintenance: t.Object({ enabled: t.Boolean(), message: t.Union([t.String(), t.Null()]) }),
    sidebar: t.Object({ visibleSections: t.Array(t.String()), hiddenSections: t.Array(t.String()) }),
  },
  { title: "UserContext" },
);

export const RoleHistoryEntry = t.Object(
  {
    id: Uuid,
    userId: Uuid,
    roleType: t.Union([t.Literal("system"), t.Literal("project")]),
    action: t.Union([t.Literal("grant"), t.Literal("revoke"), t.Literal("update")]),
    projectId: t.Union([Uuid, t.Null()]),
    projectName: t.Union([t.String(), t.Null()]),
    oldRoles: t.Array(t.String()),
    newRoles: t.Array(t.String()),
    reason: t.Union([t.String(), t.Null()]),
    changedBy: t.Union([UserRef, t.Null()]),
    changedAt: Ts,
  },
  { title: "RoleHistoryEntry" },
);

/* `roles` and `isActive` are accepted by the schema only so the service can answer 403. */
export const MePatch = Closed(
  {
    displayName: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
    roles: t.Optional(t.Any()),
    isActive: t.Optional(t.Any()),
  },
  { title: "UserAccountPatch" },
);

export const ReasonBody = t.Optional(
  Closed({ reason: t.Optional(t.String({ maxLength: 500 })) }, { title: "ReasonBody" }),
);
export const RoleBody = Closed(
  {
    roles: t.Array(SystemRole, { minItems: 1, maxItems: 2, uniqueItems: true }),
    reason: t.Optional(t.String({ maxLength: 500 })),
  },
  { title: "UserRoles" },
);

export const UserListQuery = Closed({
  ...PageQuery,
  q: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 100,
      description: "E-mail or display name contains this text (case-insensitive)",
    }),
  ),
  isActive: t.Optional(t.Boolean({ description: "Only active (true) or only deactivated (false) users" })),
  role: t.Optional(t.Union(SystemRole.anyOf, { description: "Only users with this system role" })),
  azureOid: t.Optional(t.String({ maxLength: 255, description: "Exact Entra ID object id" })),
  email: t.Optional(t.String({ maxLength: 320, description: "Exact e-mail address (case-insensitive)" })),
  sort: t.Optional(
    t.Union([t.Literal("email"), t.Literal("-createdAt"), t.Literal("-lastLoginAt")], {
      description: "Sort order; a leading - sorts descending (default email)",
    }),
  ),
});

export const RoleHistoryQuery = Closed({
  ...PageQuery,
  roleType: t.Optional(
    t.Union([t.Literal("system"), t.Literal("project")], {
      description: "Only system or only project roles",
    }),
  ),
  projectId: t.Optional(IdOf("Only changes in this project")),
});

export const UserIdParams = Closed({ userId: IdOf("User") });

export type UserAccount = typeof UserAccount.static;
export type UserSettings = typeof UserSettings.static;
export type UserSettingsPatch = typeof UserSettingsPatch.static;
export type UserContext = typeof UserContext.static;
export type RoleHistoryEntry = typeof RoleHistoryEntry.static;
export type UserListQuery = typeof UserListQuery.static;
export type RoleHistoryQuery = typeof RoleHistoryQuery.static;
