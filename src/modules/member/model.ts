import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";
import { ProjectRole } from "@/modules/project/model";

export const Member = t.Object(
  {
    id: Uuid,
    projectId: Uuid,
    userId: Uuid,
    role: ProjectRole,
    joinedAt: Ts,
    addedBy: t.Union([UserRef, t.Null()]),
    lastActivityAt: t.Union([Ts, t.Null()]),
    user: t.Object({
      id: Uuid,
      email: t.String(),
      displayName: t.Union([t.String(), t.Null()]),
      isActive: t.Boolean(),
    }),
  },
  { title: "Member" },
);

export const MyMembership = t.Object(
  {
    projectId: Uuid,
    role: ProjectRole,
    isMember: t.Boolean(),
    viaSystemAdmin: t.Boolean(),
    permissions: t.Object({
      read: t.Literal(true),
      write: t.Boolean(),
      manageMembers: t.Boolean(),
      manageModerators: t.Boolean(),
      manageProject: t.Boolean(),
    }),
  },
  { title: "MyMembership" },
);

export const MemberAdd = Closed(
  { userId: Uuid, role: t.Optional(ProjectRole) },
  {
    title: "MemberCreate",
    examples: [{ userId: "0193f0a2-7c4e-7d1a-9b2f-3c5d6e7f8a9b", role: "member" }],
  },
);
export const MemberBulkAdd = Closed(
  {
    members: t.Array(Closed({ userId: Uuid, role: t.Optional(ProjectRole) }), { minItems: 1, maxItems: 100 }),
  },
  { title: "MemberBulkCreate" },
);
export const MemberBulkResult = t.Object(
  {
    added: t.Array(Member),
    failed: t.Array(t.Object({ userId: Uuid, role: ProjectRole, code: t.String(), detail: t.String() })),
    totalRequested: Int(),
    totalAdded: Int(),
    totalFailed: Int(),
  },
  { title: "MemberBulkResult" },
);
export const MemberPatch = Closed(
  { role: ProjectRole, reason: t.Optional(t.String({ maxLength: 500 })) },
  { title: "MemberPatch" },
);
export const MemberListQuery = Closed({
  ...PageQuery,
  role: t.Optional(t.Union(ProjectRole.anyOf, { description: "Only members with this project role" })),
  q: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 100,
      description: "E-mail or display name contains this text (case-insensitive)",
    }),
  ),
});
export const MemberParams = Closed({ projectId: IdOf("Project"), memberId: IdOf("Membership") });

export type Member = typeof Member.static;
export type MyMembership = typeof MyMembership.static;
export type MemberListQuery = typeof MemberListQuery.static;
export type MemberBulkResult = typeof MemberBulkResult.static;
