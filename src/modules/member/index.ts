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
      detail: {
        tags,
        operationId: "member.list",
        description: "Members of the project with their roles; needs the viewer role or higher.",
        summary: "Members of the project (V+)",
      },
    })
    .get("/me", ({ access }) => service.myMembership(access), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      response: MyMembership,
      detail: {
        tags,
        operationId: "member.me.get",
        description:
          "The caller's role in the project and what it allows (write, manage members, manage the project).",
        summary: "The caller's membership and permissions (V+)",
      },
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
          operationId: "member.create",
          "x-problem-codes": ["USER_NOT_FOUND", "USER_INACTIVE", "ALREADY_MEMBER", "ROLE_NOT_GRANTABLE"],
          description: "Adds an active user to the project (default role member); moderators or managers.",
          summary: "Add a member (Mod+)",
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
        detail: {
          tags,
          operationId: "member.bulkCreate",
          description:
            "Adds up to 100 members in one call. Each item succeeds or fails on its own; failures carry a problem code.",
          summary: "Add up to 100 members; partial success with per-item errors (Mod+)",
        },
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
          operationId: "member.update",
          "x-problem-codes": [
            "MEMBER_NOT_FOUND",
            "ROLE_NOT_GRANTABLE",
            "SELF_ACTION_FORBIDDEN",
            "LAST_PROJECT_MANAGER",
          ],
          description:
            "Changes the role of a member (moderators or managers); the last manager cannot be demoted.",
          summary: "Change a member's role (Mod+)",
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
          operationId: "member.me.delete",
          "x-problem-codes": ["MEMBER_NOT_FOUND", "LAST_PROJECT_MANAGER"],
          description: "The caller leaves the project; refused for its last manager.",
          summary: "Leave the project (members only)",
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
          operationId: "member.delete",
          "x-problem-codes": [
            "MEMBER_NOT_FOUND",
            "ROLE_NOT_GRANTABLE",
            "SELF_ACTION_FORBIDDEN",
            "LAST_PROJECT_MANAGER",
          ],
          description: "Removes a member (moderators or managers); the last manager cannot be removed.",
          summary: "Remove a member (Mod+)",
        },
      },
    );
}
