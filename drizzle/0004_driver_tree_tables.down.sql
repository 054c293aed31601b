DROP TABLE IF EXISTS "driver_tree_policy" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree_relationship_child" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree_relationship" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree_template" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree_node" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree_data_frame" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree_file" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree_formula" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "driver_tree_category" CASCADE;
