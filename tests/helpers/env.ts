/* The only place tests read the environment: which real services this run may use. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL?.trim() || null;
export const TEST_REDIS_URL = process.env.REDIS_URL?.trim() || null;
export const usingPostgres = TEST_DATABASE_URL !== null;
