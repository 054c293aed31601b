/*
 * `bun run bench:search` (issue 18 part 2): search and dashboard latency through the real app
 * (`app.handle`, in process: auth, validation, the statement, serialisation) on PostgreSQL.
 *
 *   bun bench/search.ts [--runs 300] [--keep]
 *
 * Seed, with generate_series (seconds, not minutes): 1,000 users; 200 "search" projects holding
 * 100,000 latest files (+10,000 older versions), 10,000 sessions and 2,000 trees, with names drawn
 * from 40 business words; 5 members per project, the measured member in 10 of them. Then 800 more
 * projects (10 sessions, 10 files, 2 trees each) and 200,000 audit rows for the dashboard runs.
 *
 * Cases, sequential (concurrency 1), `runs` timed requests after 20 warm-ups, p50/p99:
 *   search q=rev (≈5 % of names) and q=xls (every file: the worst 3-character case), as the member
 *   and as a system admin; dashboard stats/activities/charts as the admin over 1,000 projects with
 *   the dashboard cache emptied before every request (uncached). EXPLAIN ANALYZE of the admin's
 *   search statement is printed, to show which indexes serve it.
 *
 * The database is `<DATABASE_URL's name>_search_bench`, created and dropped by the run (`--keep`
 * leaves it). BENCH_DATABASE_URL or DATABASE_URL names the server.
 */
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { buildApp } from "@/app";
import { configFrom } from "@/config";
import { rowsOf } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import { signDevToken } from "@/lib/auth/dev-token";
import { searchStatement } from "@/modules/search/queries";
import { closeDeps, createDeps } from "@/server";

const { values: flags } = parseArgs({
  options: { runs: { type: "string", default: "300" }, keep: { type: "boolean", default: false } },
});
const RUNS = Number(flags.runs);
const SERVER_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  "postgresql://postgres@127.0.0.1:5432/camp_bench";
const url = new URL(SERVER_URL);
const BENCH_DB = `${url.pathname.slice(1) || "camp"}_search_bench`;
const benchUrl = new URL(SERVER_URL);
benchUrl.pathname = `/${BENCH_DB}`;

const WORDS = [
  "sales",
  "budget",
  "forecast",
  "inventory",
  "payroll",
  "margin",
  "customer",
  "supplier",
  "region",
  "quarter",
  "annual",
  "monthly",
  "weekly",
  "report",
  "summary",
  "plan",
  "actual",
  "variance",
  "cost",
  "revenue",
  "headcount",
  "pricing",
  "churn",
  "pipeline",
  "capex",
  "opex",
  "cashflow",
  "ledger",
  "audit",
  "tax",
  "store",
  "channel",
  "product",
  "brand",
  "campaign",
  "survey",
  "logistics",
  "export",
  "import",
  "kpi",
];
const words = `array[${WORDS.map((w) => `'${w}'`).join(",")}]`;
const w = (expr: string) => `(${words})[1 + ((${expr}) % ${WORDS.length})]`;

async function seed(pg: postgres.Sql, memberId: string) {
  const t0 = performance.now();
  // Row triggers (project counters) off for the bulk load; the counters are recomputed after.
  await pg.unsafe("set session_replication_role = replica");
  await pg.unsafe(`
    insert into user_account (id, email, display_name)
    select gen_random_uuid(), 'bench' || g || '@example.com', 'Bench ' || g from generate_series(1, 1000) g;
    insert into analysis_validation_master (id, name) values (gen_random_uuid(), 'bench theme');
    insert into analysis_issue_master (id, validation_id, name, agent_prompt)
      select gen_random_uuid(), id, 'bench issue', 'x' from analysis_validation_master limit 1;
    create temp table bp as
      select g as n, gen_random_uuid() as id from generate_series(1, 1000) g;
    insert into project (id, name, code, description, is_active, updated_at)
      select id, initcap(${w("n * 7")}) || ' ' || initcap(${w("n * 13")}) || ' ' || n, 'BP-' || n,
        'Engagement ' || n || ' on ' || ${w("n * 3")}, n % 10 <> 0, now() - n * interval '1 minute'
      from bp;
    insert into project_member (id, project_id, user_id, role)
      select gen_random_uuid(), bp.id, u.id, case when k = 0 then 'project_manager' else 'member' end
      from bp cross join generate_series(0, 4) k
      join lateral (select id from user_account where email = 'bench' || (1 + (bp.n * 5 + k) % 1000) || '@example.com') u on true;
  `);
  await pg`
    insert into project_member (id, project_id, user_id, role)
    select gen_random_uuid(), id, ${memberId}, 'member' from bp where n % 20 = 0 and n <= 200`;
  // 200 search projects: 100k latest files + 10k older versions, 10k sessions, 2k trees.
  await pg.unsafe(`
    insert into project_file (id, project_id, chain_id, version, is_latest, filename, original_filename,
      storage_key, kind, mime_type, size_bytes, checksum_sha256, uploaded_at)
    select gen_random_uuid(), bp.id, gen_random_uuid(), 1, true, 'f' || g,
      ${w("g")} || '_' || ${w("g / 40")} || '_' || lpad(g::text, 6, '0') || '.xlsx',
      'bench/f' || g, 'xlsx', 'application/octet-stream', 1000 + g, repeat('0', 64),
      now() - g * interval '1 second'
    from generate_series(1, 100000) g join bp on bp.n = 1 + g % 200;
    insert into project_file (id, project_id, chain_id, version, is_latest, filename, original_filename,
      storage_key, kind, mime_type, size_bytes, checksum_sha256, uploaded_at)
    select gen_random_uuid(), f.project_id, f.chain_id, 2, false, 'old', 'old_revenue_draft.xlsx',
      'bench/old' || f.id, 'xlsx', 'application/octet-stream', 10, repeat('0', 64), now() - interval '30 days'
    from (select * from project_file where is_latest limit 10000) f;
    insert into analysis_session (id, project_id, issue_id, name, status, created_at, updated_at)
    select gen_random_uuid(), bp.id, (select id from analysis_issue_master limit 1),
      initcap(${w("g * 3")}) || ' ' || ${w("g * 11")} || ' analysis ' || g,
      (array['draft','active','completed','archived'])[1 + g % 4],
      now() - (g % 60) * interval '1 day', now() - g * interval '2 seconds'
    from generate_series(1, 10000) g join bp on bp.n = 1 + g % 200;
    insert into driver_tree (id, project_id, name, description, status, created_at, updated_at)
    select gen_random_uuid(), bp.id, initcap(${w("g * 17")}) || ' tree ' || g, 'Drivers of ' || ${w("g * 5")},
      (array['draft','active','completed','archived'])[1 + g % 4], now() - (g % 60) * interval '1 day',
      now() - g * interval '3 seconds'
    from generate_series(1, 2000) g join bp on bp.n = 1 + g % 200;
  `);
  // The other 800 projects, for the dashboard: 10 sessions, 10 files, 2 trees each; and audit rows.
  await pg.unsafe(`
    insert into analysis_session (id, project_id, issue_id, name, status, created_at)
    select gen_random_uuid(), bp.id, (select id from analysis_issue_master limit 1), 'session ' || k,
      (array['draft','active','completed','archived'])[1 + k % 4], now() - (k * 3) * interval '1 day'
    from bp cross join generate_series(1, 10) k where bp.n > 200;
    insert into project_file (id, project_id, chain_id, version, is_latest, filename, original_filename,
      storage_key, kind, mime_type, size_bytes, checksum_sha256, uploaded_at)
    select gen_random_uuid(), bp.id, gen_random_uuid(), 1, true, 'g', 'data_' || k || '.csv',
      'bench/g' || bp.n || '_' || k, 'csv', 'text/csv', 500, repeat('0', 64), now() - k * interval '1 day'
    from bp cross join generate_series(1, 10) k where bp.n > 200;
    insert into driver_tree (id, project_id, name, status)
    select gen_random_uuid(), bp.id, 'tree ' || k, 'draft' from bp cross join generate_series(1, 2) k where bp.n > 200;
    insert into audit_log (id, user_id, event_type, action, resource_type, resource_id, project_id, new_value, created_at)
    select gen_random_uuid(), null,
      case when g % 5 = 0 then 'ACCESS' else 'DATA_CHANGE' end,
      (array['CREATE','UPDATE','DELETE','EXPORT'])[1 + g % 4],
      (array['project_file','analysis_session','driver_tree','analysis_step'])[1 + g % 4],
      gen_random_uuid(), bp.id, jsonb_build_object('name', 'thing ' || g), now() - g * interval '10 seconds'
    from generate_series(1, 200000) g join bp on bp.n = 1 + g % 1000;
    update project p set
      file_count = (select count(*) from project_file f where f.project_id = p.id and f.is_latest),
      session_count = (select count(*) from analysis_session s where s.project_id = p.id),
      tree_count = (select count(*) from driver_tree t where t.project_id = p.id),
      member_count = (select count(*) from project_member m where m.project_id = p.id);
  `);
  await pg.unsafe("set session_replication_role = origin");
  await pg.unsafe("vacuum analyze");
  return Math.round(performance.now() - t0);
}

type Result = { case: string; hits: number | null; p50: number; p99: number; mean: number; max: number };

async function timeIt(name: string, fn: () => Promise<number | null>, before?: () => Promise<void>) {
  for (let i = 0; i < 20; i++) {
    await before?.();
    await fn();
  }
  const times: number[] = [];
  let hits: number | null = null;
  for (let i = 0; i < RUNS; i++) {
    await before?.();
    const t0 = performance.now();
    hits = await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round(times[Math.min(times.length - 1, Math.ceil(times.length * p) - 1)] * 100) / 100;
  const mean = Math.round((times.reduce((a, b) => a + b, 0) / times.length) * 100) / 100;
  const r: Result = { case: name, hits, p50: at(0.5), p99: at(0.99), mean, max: at(1) };
  console.log(JSON.stringify(r));
  return r;
}

async function main() {
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${BENCH_DB} with (force)`);
  await admin.unsafe(`create database ${BENCH_DB}`);
  const config = configFrom({
    ENVIRONMENT: "development",
    DATABASE_URL: benchUrl.toString(),
    LOG_LEVEL: "silent",
    RATE_LIMIT_CALLS: "1000000",
  });
  const deps = await createDeps(config);
  const pg = postgres(benchUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    await migrateUp(deps.database, migrationsDir(config));
    const app = buildApp(deps);
    const call = async (path: string, auth: string) => {
      const res = await app.handle(
        new Request(`http://localhost${path}`, { headers: { authorization: auth } }),
      );
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { total?: number };
    };
    const adminAuth = `Bearer ${config.devMockToken}`;
    const memberToken = await signDevToken({
      secretKey: config.secretKey,
      email: "bench.member@example.com",
      name: "Bench member",
    });
    const memberAuth = `Bearer ${memberToken}`;
    await call("/api/v1/user_account/me", adminAuth);
    const me = (await call("/api/v1/user_account/me", memberAuth)) as unknown as { id: string };
    const seedMs = await seed(pg, me.id);
    const [counts] = await pg`select (select count(*) from project)::int as projects,
      (select count(*) from project_file)::int as files, (select count(*) from analysis_session)::int as sessions,
      (select count(*) from driver_tree)::int as trees, (select count(*) from audit_log)::int as audit,
      (select count(*) from project_member where user_id = ${me.id})::int as "memberProjects"`;
    console.log(JSON.stringify({ seedMs, ...counts }));

    const results: Result[] = [];
    const search = (q: string, auth: string) => async () =>
      (await call(`/api/v1/search?q=${q}&limit=50`, auth)).total ?? null;
    results.push(await timeIt("search q=rev, member of 10 projects", search("rev", memberAuth)));
    results.push(await timeIt("search q=rev, system admin (all projects)", search("rev", adminAuth)));
    results.push(await timeIt("search q=xls, member (every file matches)", search("xls", memberAuth)));
    results.push(await timeIt("search q=xls, system admin (every file matches)", search("xls", adminAuth)));
    results.push(
      await timeIt(
        "search q=rev types=file skip=1000, admin",
        async () =>
          (await call("/api/v1/search?q=rev&types=file&skip=1000&limit=50", adminAuth)).total ?? null,
      ),
    );

    const uncached = () => deps.cache.deleteByPrefix("dashboard:").then(() => {});
    const dash = (path: string) => async () => {
      await call(`/api/v1/dashboard${path}`, adminAuth);
      return null;
    };
    results.push(await timeIt("dashboard stats, admin, 1,000 projects, uncached", dash("/stats"), uncached));
    results.push(await timeIt("dashboard activities, admin, uncached", dash("/activities"), uncached));
    results.push(await timeIt("dashboard charts days=30, admin, uncached", dash("/charts"), uncached));
    results.push(
      await timeIt(
        "dashboard stats, member, uncached",
        async () => {
          await call("/api/v1/dashboard/stats", memberAuth);
          return null;
        },
        uncached,
      ),
    );
    results.push(await timeIt("dashboard stats, admin, cached", dash("/stats")));

    for (const [label, scope] of [
      ["admin", { userId: null, projectId: null }],
      ["member", { userId: me.id, projectId: null }],
    ] as const) {
      const plan = rowsOf<{ "QUERY PLAN": string }>(
        await deps.database.db.execute(
          sql`explain (analyze, costs off, timing off) ${searchStatement("rev", ["project", "session", "file", "tree"], scope, 0, 50)}`,
        ),
      );
      console.log(
        `\n-- EXPLAIN ANALYZE, search q=rev as ${label}\n${plan.map((r) => r["QUERY PLAN"]).join("\n")}`,
      );
    }
    console.log(JSON.stringify({ load1: loadavg()[0], cpus: cpus().length, cpu: cpus()[0]?.model }));
  } finally {
    await pg.end();
    await closeDeps(deps, 1);
    if (!flags.keep) await admin.unsafe(`drop database if exists ${BENCH_DB} with (force)`);
    await admin.end();
  }
}

await main();
