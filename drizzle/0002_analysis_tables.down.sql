DROP TABLE IF EXISTS "seed_state" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_validation_master" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_template" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_step" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_snapshot" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_session" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_issue_master" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_graph_axis_master" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_file" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_dummy_formula_master" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_dummy_chart_master" CASCADE;
--> statement-breakpoint
DROP TABLE IF EXISTS "analysis_chat" CASCADE;
