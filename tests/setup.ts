import { setDefaultTimeout } from "bun:test";

/*
 * Preloaded by `bun test`. Tests run against real services when their URLs are given
 * (DATABASE_URL → PostgreSQL, REDIS_URL → Redis); with nothing configured the database is an
 * in-memory PGlite and Redis-only tests report as skipped.
 */
process.env.TZ = "UTC";
// Starting an embedded database or a child server takes seconds on a 2-core machine. A preload's
// default applies to the first test file only (oven-sh/bun#43787), so the README, package.json and
// .ci/run also pass --timeout 30000; this line keeps single-file runs at the same budget.
setDefaultTimeout(30_000);
