import { describe, expect, test } from "bun:test";
import { permissionsOf } from "@/modules/admin-role/service";
import { myMembership } from "@/modules/member/service";
import { hasRole, PROJECT_ROLES, type ProjectRole } from "@/modules/project/access";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { signIn } from "./helpers/users";

/* The role catalogue (api.md §2.12.12): the decisions.md role matrix, readable by any user. */

const MATRIX: Record<ProjectRole, string[]> = {
  viewer: ["project.read"],
  member: ["project.read", "content.create", "content.editOwn"],
  project_moderator: [
    "project.read",
    "content.create",
    "content.editOwn",
    "content.editAny",
    "members.manage",
  ],
  project_manager: [
    "project.read",
    "content.create",
    "content.editOwn",
    "content.editAny",
    "members.manage",
    "managers.manage",
    "project.manage",
  ],
};

describe("role catalogue", async () => {
  const { request, deps } = await testApp();

  test("any signed-in user reads it; it is the decisions.md matrix, ranked", async () => {
    const user = await signIn(request, deps.config.secretKey);
    const res = await request("/api/v1/admin/role", { headers: user.auth });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.systemRoles.map((r: any) => r.value)).toEqual(["system_admin", "user"]);
    expect(body.projectRoles.map((r: any) => [r.value, r.rank])).toEqual([
      ["project_manager", 4],
      ["project_moderator", 3],
      ["member", 2],
      ["viewer", 1],
    ]);
    for (const r of [...body.systemRoles, ...body.projectRoles]) {
      expect(r.label.length).toBeGreaterThan(0);
      expect(r.description.length).toBeGreaterThan(0);
    }
    for (const r of body.projectRoles)
      expect([r.value, r.permissions]).toEqual([r.value, MATRIX[r.value as ProjectRole]]);
    expect((await request("/api/v1/admin/role")).status).toBe(401);
  });

  test("the catalogue agrees with the guards: the membership permissions and role ranks", () => {
    for (const role of PROJECT_ROLES) {
      const held = new Set(permissionsOf(role));
      const access = {
        project: { id: "p", code: "P", name: "P", isActive: true },
        role,
        isMember: true,
        viaSystemAdmin: false,
      };
      const p = myMembership(access).permissions;
      expect([
        role,
        held.has("content.create"),
        held.has("members.manage"),
        held.has("managers.manage"),
        held.has("project.manage"),
      ]).toEqual([role, p.write, p.manageMembers, p.manageModerators, p.manageProject]);
      // What the route guards check: `requireProjectRole("member")` for writes, moderator for others' content.
      expect(held.has("content.create")).toBe(hasRole(access, "member"));
      expect(held.has("content.editAny")).toBe(hasRole(access, "project_moderator"));
    }
  });
});
