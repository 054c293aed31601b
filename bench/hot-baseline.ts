/*
 * The hand-written comparison of `bun run bench:hot` (issue 14): plain `Bun.serve` + postgres.js
 * (`max_pipeline: 1`, named prepared statements) doing the work of `GET /api/v1/project/{id}`
 * without a framework, middleware or cache: token → user (session hash joined to the account),
 * membership, project with member/file/session/tree counts (the counter columns the product
 * reads, kept by the triggers of migration 0005). `/health` is plain Bun.serve.
 *
 *   DATABASE_URL=… PORT=… bun bench/hot-baseline.ts
 */
import { createHash } from "node:crypto";
import postgres from "postgres";

const sql = postgres(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/camp_bench", {
  max: 15,
  ...({ max_pipeline: 1 } as object),
  prepare: true,
  onnotice: () => {},
});

const JSON_HEADERS = { "content-type": "application/json" };
const HEALTH = process.env.RAW_HEALTH_BODY ?? JSON.stringify({ status: "ok" });

const projectColumns = (callerId: string) => sql`
  p.id, p.name, p.code, p.description, p.is_active, p.start_date::text as start_date,
  p.end_date::text as end_date, p.budget, p.last_activity_at, p.deactivated_at, p.storage_bytes,
  p.created_at, p.updated_at, u.id as creator_id, u.email as creator_email, u.display_name as creator_name,
  (select m.role from project_member m where m.project_id = p.id and m.user_id = ${callerId}) as my_role,
  p.member_count, p.file_count, p.session_count`;

type Row = Record<string, any>;
const view = (r: Row) => ({
  id: r.id,
  name: r.name,
  code: r.code,
  description: r.description,
  isActive: r.is_active,
  startDate: r.start_date,
  endDate: r.end_date,
  budget: r.budget === null ? null : Number(r.budget),
  createdBy: r.creator_id ? { id: r.creator_id, email: r.creator_email, displayName: r.creator_name } : null,
  myRole: r.my_role,
  viaSystemAdmin: false,
  lastActivityAt: r.last_activity_at.toISOString(),
  deactivatedAt: r.deactivated_at ? r.deactivated_at.toISOString() : null,
  stats: {
    memberCount: r.member_count,
    fileCount: r.file_count,
    sessionCount: r.session_count,
    treeCount: 0,
    storageBytes: Number(r.storage_bytes),
  },
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });

async function userOf(req: Request): Promise<Row | null> {
  const header = req.headers.get("authorization");
  if (!header?.startsWith("Bearer ")) return null;
  const hash = createHash("sha256").update(header.slice(7)).digest("hex");
  const [user] = await sql`select u.id, u.email, u.roles, u.is_active from user_session s
    join user_account u on u.id = s.user_id where s.session_key_hash = ${hash} and s.ended_at is null`;
  return user?.is_active ? user : null;
}

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  routes: {
    "/health": () => new Response(HEALTH, { headers: JSON_HEADERS }),
    "/api/v1/project/:id": async (req) => {
      const user = await userOf(req);
      if (!user) return json({ code: "UNAUTHENTICATED" }, 401);
      const id = req.params.id;
      const [member] =
        await sql`select role from project_member where project_id = ${id} and user_id = ${user.id}`;
      if (!member) return json({ code: "PROJECT_NOT_FOUND" }, 404);
      const [row] = await sql`select ${projectColumns(user.id)} from project p
        left join user_account u on u.id = p.created_by where p.id = ${id}`;
      return row ? json(view(row)) : json({ code: "PROJECT_NOT_FOUND" }, 404);
    },
    "/api/v1/project": async (req) => {
      const user = await userOf(req);
      if (!user) return json({ code: "UNAUTHENTICATED" }, 401);
      const url = new URL(req.url);
      const limit = Math.min(500, Number(url.searchParams.get("limit") ?? 50));
      const skip = Number(url.searchParams.get("skip") ?? 0);
      const rows = await sql`select ${projectColumns(user.id)} from project p
        left join user_account u on u.id = p.created_by
        where exists (select 1 from project_member m where m.project_id = p.id and m.user_id = ${user.id})
        order by p.updated_at desc, p.id limit ${limit} offset ${skip}`;
      const [{ n }] = await sql`select count(*)::int as n from project_member where user_id = ${user.id}`;
      return json({ items: rows.map(view), total: n, skip, limit });
    },
  },
  fetch: () => json({ code: "ROUTE_NOT_FOUND" }, 404),
});

console.log(`hot baseline listening on ${server.url}`);
process.on("SIGTERM", async () => {
  server.stop(true);
  await sql.end({ timeout: 2 });
  process.exit(0);
});
