import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { projectMember, roleHistory } from "@/db/schema";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { world } from "./helpers/world";

/*
 * Lists name the user who added, changed or uploaded something through one nested user
 * reference; a reference whose user is gone (ON DELETE SET NULL) must answer null, not an object
 * of nulls.
 */
describe("user references in lists", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;

  test("a member's addedBy and a role change's changedBy are null once their user is gone, filled otherwise", async () => {
    const { project, users } = await world(request, deps.config.secretKey, {
      member: "member",
      viewer: "viewer",
    });
    await db.update(projectMember).set({ addedBy: null }).where(eq(projectMember.userId, users.viewer.id));
    const list = await json(
      await request(`/api/v1/project/${project.id}/member`, { headers: users.manager.auth }),
    );
    const byUser = new Map(list.items.map((m: any) => [m.userId, m]));
    expect((byUser.get(users.viewer.id) as any).addedBy).toBeNull();
    expect((byUser.get(users.member.id) as any).addedBy).toEqual({
      id: users.manager.id,
      email: users.manager.email,
      displayName: expect.anything(),
    });
    expect((byUser.get(users.viewer.id) as any).user.id).toBe(users.viewer.id);

    await db.update(roleHistory).set({ changedById: null }).where(eq(roleHistory.userId, users.viewer.id));
    const hist = async (u: typeof users.viewer) =>
      json(await request(`/api/v1/user_account/${u.id}/role_history`, { headers: u.auth }));
    expect((await hist(users.viewer)).items[0].changedBy).toBeNull();
    expect((await hist(users.member)).items[0].changedBy).toMatchObject({ id: users.manager.id });
  });
});
