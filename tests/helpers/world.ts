import { expect } from "bun:test";
import { json } from "./http";
import { jsonInit, signIn } from "./users";

type Requester = (path: string, init?: RequestInit) => Promise<Response>;
export type User = Awaited<ReturnType<typeof signIn>>;

/**
 * The usual test world: a project created by a fresh manager, one fresh user per entry of
 * `members` added with that role, and an outsider who belongs to nothing. Labels are the keys of
 * `users` (`manager` and `outsider` always exist).
 */
export async function world<L extends string>(
  request: Requester,
  secret: string,
  members: Record<L, string>,
  name = "Project",
) {
  const manager = await signIn(request, secret);
  const code = `W-${manager.id.slice(-10)}`;
  const created = await request("/api/v1/project", jsonInit("POST", { name, code }, manager.auth));
  expect(created.status).toBe(201);
  const project = await json(created);
  expect(created.headers.get("location")).toBe(`/api/v1/project/${project.id}`);
  const users = { manager } as Record<L | "manager" | "outsider", User>;
  for (const [label, role] of Object.entries(members) as [L, string][]) {
    const u = await signIn(request, secret);
    const add = await request(
      `/api/v1/project/${project.id}/member`,
      jsonInit("POST", { userId: u.id, role }, manager.auth),
    );
    expect(add.status).toBe(201);
    users[label] = u;
  }
  users.outsider = await signIn(request, secret);
  return { project, code, users };
}
