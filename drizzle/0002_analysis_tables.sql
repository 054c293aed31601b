CREATE TABLE "analysis_chat" (
	"id" uuid PRIMARY KEY NOT NULL,
	"snapshot_id" uuid NOT NULL,
	"chat_order" integer NOT NULL,
	"role" varchar(10) NOT NULL,
	"message" text NOT NULL,
	"tool_trace" jsonb,
	"author_id" uuid,
	"token_usage" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_chat_order" UNIQUE("snapshot_id","chat_order"),
	CONSTRAINT "ck_chat_role" CHECK (role IN ('system', 'user', 'assistant'))
);
--> statement-breakpoint
CREATE TABLE "analysis_dummy_chart_master" (
	"id" uuid PRIMARY KEY NOT NULL,
	"issue_id" uuid NOT NULL,
	"chart" jsonb NOT NULL,
	"chart_order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_chart_object" CHECK (jsonb_typeof("analysis_dummy_chart_master"."chart") = 'object')
);
--> statement-breakpoint
CREATE TABLE "analysis_dummy_formula_master" (
	"id" uuid PRIMARY KEY NOT NULL,
	"issue_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"value" varchar(255) NOT NULL,
	"formula_order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analysis_file" (
	"id" uuid PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"project_file_id" uuid,
	"source_filename" varchar(255) NOT NULL,
	"sheet_name" varchar(255),
	"axis_config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"config_list" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"data" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"row_count" integer DEFAULT 0 NOT NULL,
	"added_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_analysis_file_source" UNIQUE("session_id","project_file_id")
);
--> statement-breakpoint
CREATE TABLE "analysis_graph_axis_master" (
	"id" uuid PRIMARY KEY NOT NULL,
	"issue_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"option" varchar(10) NOT NULL,
	"multiple" boolean DEFAULT false NOT NULL,
	"axis_order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_axis_option" CHECK (option IN ('subject', 'column'))
);
--> statement-breakpoint
CREATE TABLE "analysis_issue_master" (
	"id" uuid PRIMARY KEY NOT NULL,
	"validation_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"agent_prompt" text NOT NULL,
	"initial_msg" text,
	"dummy_hint" text,
	"dummy_input" jsonb,
	"issue_order" integer DEFAULT 0 NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_issue_dummy_input" CHECK ("analysis_issue_master"."dummy_input" IS NULL OR jsonb_typeof("analysis_issue_master"."dummy_input") = 'array')
);
--> statement-breakpoint
CREATE TABLE "analysis_session" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"issue_id" uuid NOT NULL,
	"creator_id" uuid,
	"name" varchar(255) DEFAULT '' NOT NULL,
	"status" varchar(10) DEFAULT 'draft' NOT NULL,
	"custom_system_prompt" text,
	"initial_message" text,
	"input_file_id" uuid,
	"current_snapshot_id" uuid,
	"completed_at" timestamp with time zone,
	"chat_lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_session_status" CHECK (status IN ('draft', 'active', 'completed', 'archived'))
);
--> statement-breakpoint
CREATE TABLE "analysis_snapshot" (
	"id" uuid PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"parent_snapshot_id" uuid,
	"snapshot_order" integer NOT NULL,
	"name" varchar(255),
	"description" text,
	"trigger" varchar(12) NOT NULL,
	"conversation_summary" text,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_snapshot_order" UNIQUE("session_id","snapshot_order"),
	CONSTRAINT "ck_snapshot_order" CHECK ("analysis_snapshot"."snapshot_order" >= 0),
	CONSTRAINT "ck_snapshot_trigger" CHECK (trigger IN ('create', 'chat', 'manual', 'template', 'duplicate'))
);
--> statement-breakpoint
CREATE TABLE "analysis_step" (
	"id" uuid PRIMARY KEY NOT NULL,
	"snapshot_id" uuid NOT NULL,
	"step_key" uuid NOT NULL,
	"step_order" integer NOT NULL,
	"name" varchar(255) NOT NULL,
	"type" varchar(10) NOT NULL,
	"input" varchar(64) NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"triggered_by_chat_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_step_key" UNIQUE("snapshot_id","step_key"),
	CONSTRAINT "uq_step_order" UNIQUE("snapshot_id","step_order") DEFERRABLE INITIALLY DEFERRED,
	CONSTRAINT "ck_step_type" CHECK (type IN ('filter', 'aggregate', 'transform', 'summary'))
);
--> statement-breakpoint
CREATE TABLE "analysis_template" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"issue_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"template_type" varchar(10) DEFAULT 'session' NOT NULL,
	"template_config" jsonb NOT NULL,
	"source_session_id" uuid,
	"is_public" boolean DEFAULT false NOT NULL,
	"usage_count" integer DEFAULT 0 NOT NULL,
	"last_used_at" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_template_type" CHECK (template_type IN ('session', 'step'))
);
--> statement-breakpoint
CREATE TABLE "analysis_validation_master" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" varchar(255) NOT NULL,
	"validation_order" integer DEFAULT 0 NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seed_state" (
	"seed_key" text PRIMARY KEY NOT NULL,
	"content_hash" text,
	"row_hash" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "analysis_chat" ADD CONSTRAINT "analysis_chat_snapshot_id_analysis_snapshot_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."analysis_snapshot"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_chat" ADD CONSTRAINT "analysis_chat_author_id_user_account_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_dummy_chart_master" ADD CONSTRAINT "analysis_dummy_chart_master_issue_id_analysis_issue_master_id_fk" FOREIGN KEY ("issue_id") REFERENCES "public"."analysis_issue_master"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_dummy_formula_master" ADD CONSTRAINT "analysis_dummy_formula_master_issue_id_analysis_issue_master_id_fk" FOREIGN KEY ("issue_id") REFERENCES "public"."analysis_issue_master"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_file" ADD CONSTRAINT "analysis_file_session_id_analysis_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."analysis_session"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_file" ADD CONSTRAINT "analysis_file_project_file_id_project_file_id_fk" FOREIGN KEY ("project_file_id") REFERENCES "public"."project_file"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_file" ADD CONSTRAINT "analysis_file_added_by_user_account_id_fk" FOREIGN KEY ("added_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_graph_axis_master" ADD CONSTRAINT "analysis_graph_axis_master_issue_id_analysis_issue_master_id_fk" FOREIGN KEY ("issue_id") REFERENCES "public"."analysis_issue_master"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_issue_master" ADD CONSTRAINT "analysis_issue_master_validation_id_analysis_validation_master_id_fk" FOREIGN KEY ("validation_id") REFERENCES "public"."analysis_validation_master"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_session" ADD CONSTRAINT "analysis_session_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_session" ADD CONSTRAINT "analysis_session_issue_id_analysis_issue_master_id_fk" FOREIGN KEY ("issue_id") REFERENCES "public"."analysis_issue_master"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_session" ADD CONSTRAINT "analysis_session_creator_id_user_account_id_fk" FOREIGN KEY ("creator_id") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_session" ADD CONSTRAINT "analysis_session_input_file_id_analysis_file_id_fk" FOREIGN KEY ("input_file_id") REFERENCES "public"."analysis_file"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_session" ADD CONSTRAINT "analysis_session_current_snapshot_id_analysis_snapshot_id_fk" FOREIGN KEY ("current_snapshot_id") REFERENCES "public"."analysis_snapshot"("id") ON DELETE set null ON UPDATE no action DEFERRABLE INITIALLY DEFERRED;--> statement-breakpoint
ALTER TABLE "analysis_snapshot" ADD CONSTRAINT "analysis_snapshot_session_id_analysis_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."analysis_session"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_snapshot" ADD CONSTRAINT "analysis_snapshot_parent_snapshot_id_analysis_snapshot_id_fk" FOREIGN KEY ("parent_snapshot_id") REFERENCES "public"."analysis_snapshot"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_snapshot" ADD CONSTRAINT "analysis_snapshot_created_by_user_account_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_step" ADD CONSTRAINT "analysis_step_snapshot_id_analysis_snapshot_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."analysis_snapshot"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_step" ADD CONSTRAINT "analysis_step_triggered_by_chat_id_analysis_chat_id_fk" FOREIGN KEY ("triggered_by_chat_id") REFERENCES "public"."analysis_chat"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_template" ADD CONSTRAINT "analysis_template_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_template" ADD CONSTRAINT "analysis_template_issue_id_analysis_issue_master_id_fk" FOREIGN KEY ("issue_id") REFERENCES "public"."analysis_issue_master"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_template" ADD CONSTRAINT "analysis_template_source_session_id_analysis_session_id_fk" FOREIGN KEY ("source_session_id") REFERENCES "public"."analysis_session"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analysis_template" ADD CONSTRAINT "analysis_template_created_by_user_account_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ix_chat_created" ON "analysis_chat" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "ix_chat_author" ON "analysis_chat" USING btree ("author_id","created_at");--> statement-breakpoint
CREATE INDEX "ix_chart_order" ON "analysis_dummy_chart_master" USING btree ("issue_id","chart_order");--> statement-breakpoint
CREATE INDEX "ix_formula_order" ON "analysis_dummy_formula_master" USING btree ("issue_id","formula_order");--> statement-breakpoint
CREATE INDEX "ix_analysis_file_project_file" ON "analysis_file" USING btree ("project_file_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_axis_name" ON "analysis_graph_axis_master" USING btree ("issue_id",lower("name"));--> statement-breakpoint
CREATE INDEX "ix_axis_order" ON "analysis_graph_axis_master" USING btree ("issue_id","axis_order");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_issue_name" ON "analysis_issue_master" USING btree ("validation_id",lower("name"));--> statement-breakpoint
CREATE INDEX "ix_issue_validation" ON "analysis_issue_master" USING btree ("validation_id","is_active","issue_order");--> statement-breakpoint
CREATE INDEX "ix_session_project" ON "analysis_session" USING btree ("project_id","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_session_issue" ON "analysis_session" USING btree ("issue_id");--> statement-breakpoint
CREATE INDEX "ix_session_creator" ON "analysis_session" USING btree ("creator_id");--> statement-breakpoint
CREATE INDEX "ix_session_name" ON "analysis_session" USING btree ("project_id",lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "uq_template_name" ON "analysis_template" USING btree ("project_id",lower("name"));--> statement-breakpoint
CREATE INDEX "ix_template_project" ON "analysis_template" USING btree ("project_id","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_template_public" ON "analysis_template" USING btree ("updated_at" DESC NULLS LAST) WHERE "analysis_template"."is_public";--> statement-breakpoint
CREATE UNIQUE INDEX "uq_validation_name" ON "analysis_validation_master" USING btree (lower("name"));--> statement-breakpoint
CREATE INDEX "ix_validation_active_order" ON "analysis_validation_master" USING btree ("is_active","validation_order");