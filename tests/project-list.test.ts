import { describe, expect, test } from "bun:test";
import { testApp } from "./helpers/context";
import { jsonInit, signIn } from "./helpers/users";

/*
 * The project list (one statement: page, grouped counts and total) agrees with the single read,
 * and its filters, sort orders and paging behave as documented.
 */
describe("GET /project (list)", () => {
  test("items equal the single reads; counts, total, sort, filters and paging", async () => {
    const { request, deps } = await testApp();
    const owner = await signIn(request, deps.config.secretKey);
    const other = await signIn(request, deps.config.secretKey);
    const tag = owner.id.slice(-8);
    const ids: string[] = [];
    for (const name of ["Beta", "alpha", "Gamma"]) {
      const res = await request(
        "/api/v1/project",
        jsonInit("POST", { name: `${name} ${tag}`, code: `L${name}-${tag}`, budget: 12.5 }, owner.auth),
      );
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as any).id);
    }
    // Different member counts per project; one project the caller is not in at all.
    await request(`/api/v1/project/${ids[0]}/member`, jsonInit("POST", { userId: other.id }, owner.auth));
    await request(
      "/api/v1/project",
      jsonInit("POST", { name: `Foreign ${tag}`, code: `LF-${tag}` }, other.auth),
    );
    await request(`/api/v1/project/${ids[2]}`, jsonInit("PATCH", { isActive: false }, owner.auth));

    const list = async (qs: string) => {
      const res = await request(`/api/v1/project?${qs}`, { headers: owner.auth });
      expect(res.status).toBe(200);
      return (await res.json()) as any;
    };
    const all = await list("limit=20&sort=name");
    expect(all.total).toBe(3);
    expect(all.items.map((p: any) => p.name)).toEqual([`alpha ${tag}`, `Beta ${tag}`, `Gamma ${tag}`]);
    for (const item of all.items) {
      const one = await (await request(`/api/v1/project/${item.id}`, { headers: owner.auth })).json();
      expect(item).toEqual(one);
    }
    const beta = all.items.find((p: any) => p.id === ids[0]);
    expect(beta.stats).toMatchObject({ memberCount: 2, fileCount: 0, sessionCount: 0, treeCount: 0 });
    expect(beta.myRole).toBe("project_manager");
    expect(beta.budget).toBe(12.5);

    const active = await list("isActive=true&sort=code");
    expect(active.total).toBe(2);
    expect(active.items.map((p: any) => p.code)).toEqual([`Lalpha-${tag}`, `LBeta-${tag}`]);
    const inactive = await list("isActive=false");
    expect(inactive.items.map((p: any) => p.id)).toEqual([ids[2]]);
    const q = await list(`q=GAMMA`);
    expect(q.items.map((p: any) => p.id)).toEqual([ids[2]]);
    expect((await list("q=%25")).total).toBe(0); // a literal %, escaped
    const both = await list(`isActive=true&q=${tag}&sort=-createdAt`);
    expect(both.items.map((p: any) => p.id)).toEqual([ids[1], ids[0]]);
    expect((await list(`isActive=false&q=beta&skip=5`)).total).toBe(0);
    expect((await list(`isActive=false&q=gamma&skip=5`)).total).toBe(1);
    const paged = await list("sort=name&skip=1&limit=1");
    expect(paged).toMatchObject({ total: 3, skip: 1, limit: 1 });
    expect(paged.items.map((p: any) => p.name)).toEqual([`Beta ${tag}`]);
    const past = await list("skip=10&limit=5");
    expect(past).toMatchObject({ items: [], total: 3, skip: 10, limit: 5 });
    const newest = await list("sort=-createdAt");
    expect(newest.items.map((p: any) => p.id)).toEqual([ids[2], ids[1], ids[0]]);
    const recent = await list(""); // -updatedAt: the deactivated one was updated last
    expect(recent.items[0].id).toBe(ids[2]);
  });
});
