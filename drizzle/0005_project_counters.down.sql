DROP TRIGGER IF EXISTS project_session_count ON analysis_session;--> statement-breakpoint
DROP TRIGGER IF EXISTS project_file_count ON project_file;--> statement-breakpoint
DROP TRIGGER IF EXISTS project_member_count ON project_member;--> statement-breakpoint
DROP FUNCTION IF EXISTS project_session_count_sync();--> statement-breakpoint
DROP FUNCTION IF EXISTS project_file_count_sync();--> statement-breakpoint
DROP FUNCTION IF EXISTS project_member_count_sync();--> statement-breakpoint
ALTER TABLE "project" DROP COLUMN IF EXISTS "session_count";--> statement-breakpoint
ALTER TABLE "project" DROP COLUMN IF EXISTS "file_count";--> statement-breakpoint
ALTER TABLE "project" DROP COLUMN IF EXISTS "member_count";
