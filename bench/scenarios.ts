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
};

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
];
