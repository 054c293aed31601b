import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { NoContent, Page } from "@/lib/schema";
import { ProjectParams } from "@/modules/project/model";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import {
  Member,
  MemberAdd,
  MemberBulkAdd,
  MemberBulkResult,
  MemberListQuery,
  MemberParams,
  MemberPatch,
  MyMembership,
} from "./model";
import * as service from "./service";

export function memberController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["member"];
  const memberDeps = (auth: { actor: service.MemberDeps["actor"] }) => ({
    db,
    cache: deps.cache,
    actor: auth.actor,
  });

  return new Elysia({ name: "member", prefix: "/project/:projectId/member" })
    .use(projectAccessPlugin(deps))
    .get("", ({ access, query }) => service.listMembers(db, access.project.id, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: MemberListQuery,
      response: Page(Member),
      detail: { tags, summary: "Members of the project (V+)" },
    })
    .get("/me", ({ access }) => service.myMembership(access), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      response: MyMembership,
      detail: { tags, summary: "The caller's membership and permissions (V+)" },
    })
    .post(
      "",
      async ({ caller, auth, access, body, set }) => {
        const member = await service.addMember(memberDeps(auth), caller, access, body);
        set.status = 201;
        set.headers.Location = `/api/v1/project/${access.project.id}/member/${member.id}`;
        return member;
      },
      {
        project: requireProjectRole("project_moderator"),
        params: ProjectParams,
        body: MemberAdd,
        response: { 201: Member },
        detail: {
          tags,
          summary: "Add a member (Mod+)",
          "x-problem-codes": ["USER_NOT_FOUND", "USER_INACTIVE", "ALREADY_MEMBER", "ROLE_NOT_GRANTABLE"],
        },
      },
    )
    .post(
      "/bulk",
      ({ caller, auth, access, body }) =>
        service.bulkAddMembers(memberDeps(auth), caller, access, body.members),
      {
        project: requireProjectRole("project_moderator"),
        params: ProjectParams,
        body: MemberBulkAdd,
        response: MemberBulkResult,
        detail: { tags, summary: "Add up to 100 members; partial success with per-item errors (Mod+)" },
      },
    )
    .patch(
      "/:memberId",
      ({ caller, auth, access, params, body }) =>
        service.changeRole(memberDeps(auth), caller, access, params.memberId, body.role, body.reason),
      {
        project: requireProjectRole("project_moderator"),
        params: MemberParams,
        body: MemberPatch,
        response: Member,
        detail: {
          tags,
          summary: "Change a member's role (Mod+)",
          "x-problem-codes": [
            "MEMBER_NOT_FOUND",
            "ROLE_NOT_GRANTABLE",
            "SELF_ACTION_FORBIDDEN",
            "LAST_PROJECT_MANAGER",
          ],
        },
      },
    )
    .delete(
      "/me",
      async ({ caller, auth, access, set }) => {
        await service.leaveProject(memberDeps(auth), caller, access);
        set.status = 204;
      },
      {
        project: requireProjectRole("viewer"),
        params: ProjectParams,
        response: NoContent,
        detail: {
          tags,
          summary: "Leave the project (members only)",
          "x-problem-codes": ["MEMBER_NOT_FOUND", "LAST_PROJECT_MANAGER"],
        },
      },
    )
    .delete(
      "/:memberId",
      async ({ caller, auth, access, params, set }) => {
        await service.removeMember(memberDeps(auth), caller, access, params.memberId);
        set.status = 204;
      },
      {
        project: requireProjectRole("project_moderator"),
        params: MemberParams,
        response: NoContent,
        detail: {
          tags,
          summary: "Remove a member (Mod+)",
          "x-problem-codes": [
            "MEMBER_NOT_FOUND",
            "ROLE_NOT_GRANTABLE",
            "SELF_ACTION_FORBIDDEN",
            "LAST_PROJECT_MANAGER",
          ],
        },
      },
    );
}
