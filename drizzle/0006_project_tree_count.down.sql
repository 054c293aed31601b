DROP TRIGGER IF EXISTS project_tree_count ON driver_tree;--> statement-breakpoint
DROP FUNCTION IF EXISTS project_tree_count_sync();--> statement-breakpoint
ALTER TABLE "project" DROP COLUMN IF EXISTS "tree_count";
