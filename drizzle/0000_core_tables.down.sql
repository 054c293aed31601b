DROP TABLE IF EXISTS "storage_deletion_queue";
--> statement-breakpoint
DROP TABLE IF EXISTS "system_setting";
--> statement-breakpoint
DROP TABLE IF EXISTS "audit_log";
--> statement-breakpoint
DROP TABLE IF EXISTS "role_history";
--> statement-breakpoint
DROP TABLE IF EXISTS "project_file";
--> statement-breakpoint
DROP TABLE IF EXISTS "project_member";
--> statement-breakpoint
DROP TABLE IF EXISTS "project";
--> statement-breakpoint
DROP TABLE IF EXISTS "user_session";
--> statement-breakpoint
DROP TABLE IF EXISTS "user_settings";
--> statement-breakpoint
DROP TABLE IF EXISTS "user_account";
