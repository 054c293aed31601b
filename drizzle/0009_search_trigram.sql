-- Trigram indexes for the substring search (api.md §2.11): `lower(col) LIKE lower('%q%')` can use a
-- GIN gin_trgm_ops index on lower(col) for queries of 3+ characters. pg_trgm is a trusted extension
-- (PostgreSQL 13+), but a managed server may not allow-list it (Azure: azure.extensions), so the
-- migration must not fail there: without the extension the indexes are skipped and search falls
-- back to a scan, with the same results. PGlite loads pg_trgm in src/db/client.ts.
DO $$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): search runs without trigram indexes', SQLERRM;
  END;
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    CREATE INDEX IF NOT EXISTS "ix_session_name_trgm" ON "analysis_session" USING gin (lower("name") gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS "ix_dt_tree_name_trgm" ON "driver_tree" USING gin (lower("name") gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS "ix_dt_tree_description_trgm" ON "driver_tree" USING gin (lower("description") gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS "ix_project_name_trgm" ON "project" USING gin (lower("name") gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS "ix_project_code_trgm" ON "project" USING gin (lower("code") gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS "ix_project_description_trgm" ON "project" USING gin (lower("description") gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS "ix_project_file_name_trgm" ON "project_file" USING gin (lower("original_filename") gin_trgm_ops) WHERE "project_file"."is_latest";
  END IF;
END $$;
--> statement-breakpoint
-- The dashboard's activity feed (api.md §2.9): a page is an ordered read of this index, the count
-- an index-only scan, instead of two scans of the whole audit log per uncached request.
CREATE INDEX IF NOT EXISTS "ix_audit_dashboard" ON "audit_log" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST,"resource_type","project_id") WHERE "audit_log"."outcome" = 'success' AND "audit_log"."project_id" IS NOT NULL AND (("audit_log"."event_type" = 'DATA_CHANGE' AND "audit_log"."action" IN ('CREATE', 'UPDATE', 'DELETE')) OR "audit_log"."action" IN ('MEMBER_ADD', 'MEMBER_REMOVE'));
