/*
 * The benchmark's scenarios, one entry each. A later feature adds its hot path here (with
 * `auth: true` for routes behind the bearer token) and `bun run bench` picks it up; `raw` names
 * the bare-Bun route it is compared with, when a fair counterpart exists.
 */

export type Scenario = {
  /** Stable id, used in results files and with `--scenario`. */
  id: string;
  description: string;
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path on the real service. */
  path: string;
  /** Path on bench/raw-server.ts returning an equivalent response, for the ratio column. */
  raw?: string;
  /** Send `Authorization: Bearer <dev token>` (BENCH_TOKEN, else the development mock token). */
  auth?: boolean;
  headers?: Record<string, string>;
  /** JSON request body for POST/PUT/PATCH. */
  body?: unknown;
  /** Status every response should have; other statuses are reported as errors. */
  expectStatus?: number;
  /**
   * Runs once against the service before the load; returns values substituted for `{name}` in
   * `path` (e.g. a project id created through the API).
   */
  setup?: (base: string, headers: Record<string, string>) => Promise<Record<string, string>>;
};

async function createProjects(base: string, headers: Record<string, string>, n: number): Promise<string[]> {
  const ids: string[] = [];
  const tag = crypto.randomUUID().slice(0, 8);
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${base}/api/v1/project`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ name: `Bench ${i}`, code: `BENCH-${tag}-${i}` }),
    });
    if (res.status !== 201)
      throw new Error(`bench setup: create project → ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

export const scenarios: Scenario[] = [
  {
    id: "health",
    description: "GET /health (liveness, no I/O)",
    path: "/health",
    raw: "/health",
    expectStatus: 200,
  },
  {
    id: "json-small",
    description: "GET / (small JSON body) vs a 200-byte JSON body",
    path: "/",
    raw: "/json200",
    expectStatus: 200,
  },
  {
    id: "me",
    description: "GET /api/v1/user_account/me with a development token (auth + cached user)",
    path: "/api/v1/user_account/me",
    raw: "/json200",
    auth: true,
    expectStatus: 200,
  },
  {
    id: "project-get",
    description: "GET /api/v1/project/:projectId (cached member role and project facts)",
    path: "/api/v1/project/{projectId}",
    raw: "/json200",
    auth: true,
    expectStatus: 200,
    setup: async (base, headers) => ({ projectId: (await createProjects(base, headers, 1))[0] }),
  },
  {
    id: "project-list",
    description: "GET /api/v1/project?limit=20 (20 projects with stats)",
    path: "/api/v1/project?limit=20",
    raw: "/json200",
    auth: true,
    expectStatus: 200,
    setup: async (base, headers) => {
      await createProjects(base, headers, 20);
      return {};
    },
  },
];
