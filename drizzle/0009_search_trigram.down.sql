-- The extension stays: other objects may have come to depend on it since, and it costs nothing.
DROP INDEX IF EXISTS "ix_audit_dashboard";--> statement-breakpoint
DROP INDEX IF EXISTS "ix_project_file_name_trgm";--> statement-breakpoint
DROP INDEX IF EXISTS "ix_project_description_trgm";--> statement-breakpoint
DROP INDEX IF EXISTS "ix_project_code_trgm";--> statement-breakpoint
DROP INDEX IF EXISTS "ix_project_name_trgm";--> statement-breakpoint
DROP INDEX IF EXISTS "ix_dt_tree_description_trgm";--> statement-breakpoint
DROP INDEX IF EXISTS "ix_dt_tree_name_trgm";--> statement-breakpoint
DROP INDEX IF EXISTS "ix_session_name_trgm";
