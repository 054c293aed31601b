import { setDefaultTimeout } from "bun:test";

/*
 * Preloaded by `bun test`. Tests run against real services when their URLs are given
 * (DATABASE_URL → PostgreSQL, REDIS_URL → Redis); with nothing configured the database is an
 * in-memory PGlite and Redis-only tests report as skipped.
 */
process.env.TZ = "UTC";
// Starting an embedded database or a child server takes seconds on a 2-core machine.
setDefaultTimeout(30_000);
