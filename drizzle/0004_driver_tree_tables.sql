CREATE TABLE "driver_tree" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"status" varchar(10) DEFAULT 'draft' NOT NULL,
	"root_node_id" uuid,
	"formula_id" uuid,
	"source_template_id" uuid,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_dt_tree_status" CHECK (status IN ('draft', 'active', 'completed', 'archived'))
);
--> statement-breakpoint
CREATE TABLE "driver_tree_category" (
	"id" uuid PRIMARY KEY NOT NULL,
	"category_id" uuid NOT NULL,
	"category_name" varchar(255) NOT NULL,
	"industry_id" uuid NOT NULL,
	"industry_name" varchar(255) NOT NULL,
	"driver_type_id" uuid NOT NULL,
	"driver_type" varchar(255) NOT NULL,
	"description" text,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_dt_category_triple" UNIQUE("category_id","industry_id","driver_type_id")
);
--> statement-breakpoint
CREATE TABLE "driver_tree_data_frame" (
	"id" uuid PRIMARY KEY NOT NULL,
	"driver_tree_file_id" uuid NOT NULL,
	"column_id" uuid NOT NULL,
	"column_name" varchar(255) NOT NULL,
	"is_subject" boolean DEFAULT false NOT NULL,
	"role" varchar(6) DEFAULT 'unused' NOT NULL,
	"items" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_dt_frame_column_id" UNIQUE("driver_tree_file_id","column_id"),
	CONSTRAINT "uq_dt_frame_column_name" UNIQUE("driver_tree_file_id","column_name"),
	CONSTRAINT "ck_dt_frame_role" CHECK (role IN ('time', 'axis', 'value', 'unused'))
);
--> statement-breakpoint
CREATE TABLE "driver_tree_file" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_file_id" uuid NOT NULL,
	"sheet_name" varchar(255) NOT NULL,
	"sheet_index" smallint NOT NULL,
	"is_selected" boolean DEFAULT false NOT NULL,
	"selected_at" timestamp with time zone,
	"selected_by" uuid,
	"row_count" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_dt_file_sheet" UNIQUE("project_file_id","sheet_name")
);
--> statement-breakpoint
CREATE TABLE "driver_tree_formula" (
	"id" uuid PRIMARY KEY NOT NULL,
	"driver_type_id" uuid NOT NULL,
	"driver_type" varchar(255) NOT NULL,
	"kpi" varchar(10) NOT NULL,
	"formulas" jsonb NOT NULL,
	"category_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_dt_formula_driver_kpi" UNIQUE("driver_type_id","kpi"),
	CONSTRAINT "ck_dt_formula_kpi" CHECK (kpi IN ('売上', '原価', '販管費', '粗利', '営業利益', 'EBITDA')),
	CONSTRAINT "ck_dt_formula_formulas" CHECK (jsonb_typeof("driver_tree_formula"."formulas") = 'array')
);
--> statement-breakpoint
CREATE TABLE "driver_tree_node" (
	"id" uuid PRIMARY KEY NOT NULL,
	"driver_tree_id" uuid NOT NULL,
	"label" varchar(255) NOT NULL,
	"node_type" varchar(12) NOT NULL,
	"position_x" integer DEFAULT 0 NOT NULL,
	"position_y" integer DEFAULT 0 NOT NULL,
	"value" double precision,
	"unit" varchar(20),
	"bound_sheet_id" uuid,
	"bound_item" varchar(255),
	"aggregation" varchar(6),
	"axis_filter" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_dt_node_type" CHECK (node_type IN ('calculation', 'input', 'constant')),
	CONSTRAINT "ck_dt_node_aggregation" CHECK (aggregation IS NULL OR aggregation IN ('sum', 'mean', 'latest')),
	CONSTRAINT "ck_dt_node_binding" CHECK ((bound_sheet_id IS NULL) = (bound_item IS NULL))
);
--> statement-breakpoint
CREATE TABLE "driver_tree_policy" (
	"id" uuid PRIMARY KEY NOT NULL,
	"node_id" uuid NOT NULL,
	"label" varchar(255) NOT NULL,
	"value" double precision DEFAULT 0 NOT NULL,
	"value_kind" varchar(8) DEFAULT 'percent' NOT NULL,
	"description" text,
	"cost" numeric(15, 2),
	"duration_months" smallint,
	"start_period" varchar(50),
	"status" varchar(12) DEFAULT 'planned' NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_dt_policy_value_kind" CHECK (value_kind IN ('percent', 'factor', 'absolute')),
	CONSTRAINT "ck_dt_policy_status" CHECK (status IN ('planned', 'in_progress', 'completed')),
	CONSTRAINT "ck_dt_policy_cost" CHECK (cost IS NULL OR cost >= 0),
	CONSTRAINT "ck_dt_policy_duration" CHECK (duration_months IS NULL OR duration_months BETWEEN 0 AND 600)
);
--> statement-breakpoint
CREATE TABLE "driver_tree_relationship" (
	"id" uuid PRIMARY KEY NOT NULL,
	"driver_tree_id" uuid NOT NULL,
	"parent_node_id" uuid NOT NULL,
	"operator" char(1) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_dt_relationship_parent" UNIQUE("parent_node_id"),
	CONSTRAINT "ck_dt_relationship_operator" CHECK (operator IN ('+', '-', '*', '/'))
);
--> statement-breakpoint
CREATE TABLE "driver_tree_relationship_child" (
	"id" uuid PRIMARY KEY NOT NULL,
	"relationship_id" uuid NOT NULL,
	"child_node_id" uuid NOT NULL,
	"order_index" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_dt_child_node" UNIQUE("relationship_id","child_node_id"),
	CONSTRAINT "uq_dt_child_order" UNIQUE("relationship_id","order_index") DEFERRABLE INITIALLY DEFERRED
);
--> statement-breakpoint
CREATE TABLE "driver_tree_template" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"category" varchar(15),
	"template_config" jsonb NOT NULL,
	"node_count" integer DEFAULT 0 NOT NULL,
	"source_tree_id" uuid,
	"is_public" boolean DEFAULT false NOT NULL,
	"usage_count" integer DEFAULT 0 NOT NULL,
	"last_used_at" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_dt_template_category" CHECK (category IS NULL OR category IN ('retail_ec', 'manufacturing', 'services', 'saas', 'other'))
);
--> statement-breakpoint
ALTER TABLE "driver_tree" ADD CONSTRAINT "driver_tree_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree" ADD CONSTRAINT "driver_tree_root_node_id_driver_tree_node_id_fk" FOREIGN KEY ("root_node_id") REFERENCES "public"."driver_tree_node"("id") ON DELETE set null ON UPDATE no action DEFERRABLE INITIALLY DEFERRED;--> statement-breakpoint
ALTER TABLE "driver_tree" ADD CONSTRAINT "driver_tree_formula_id_driver_tree_formula_id_fk" FOREIGN KEY ("formula_id") REFERENCES "public"."driver_tree_formula"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree" ADD CONSTRAINT "driver_tree_source_template_id_driver_tree_template_id_fk" FOREIGN KEY ("source_template_id") REFERENCES "public"."driver_tree_template"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree" ADD CONSTRAINT "driver_tree_created_by_user_account_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_category" ADD CONSTRAINT "driver_tree_category_created_by_user_account_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_data_frame" ADD CONSTRAINT "driver_tree_data_frame_driver_tree_file_id_driver_tree_file_id_fk" FOREIGN KEY ("driver_tree_file_id") REFERENCES "public"."driver_tree_file"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_file" ADD CONSTRAINT "driver_tree_file_project_file_id_project_file_id_fk" FOREIGN KEY ("project_file_id") REFERENCES "public"."project_file"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_file" ADD CONSTRAINT "driver_tree_file_selected_by_user_account_id_fk" FOREIGN KEY ("selected_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_formula" ADD CONSTRAINT "driver_tree_formula_category_id_driver_tree_category_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."driver_tree_category"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_node" ADD CONSTRAINT "driver_tree_node_driver_tree_id_driver_tree_id_fk" FOREIGN KEY ("driver_tree_id") REFERENCES "public"."driver_tree"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_node" ADD CONSTRAINT "driver_tree_node_bound_sheet_id_driver_tree_file_id_fk" FOREIGN KEY ("bound_sheet_id") REFERENCES "public"."driver_tree_file"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_policy" ADD CONSTRAINT "driver_tree_policy_node_id_driver_tree_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."driver_tree_node"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_policy" ADD CONSTRAINT "driver_tree_policy_created_by_user_account_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_relationship" ADD CONSTRAINT "driver_tree_relationship_driver_tree_id_driver_tree_id_fk" FOREIGN KEY ("driver_tree_id") REFERENCES "public"."driver_tree"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_relationship" ADD CONSTRAINT "driver_tree_relationship_parent_node_id_driver_tree_node_id_fk" FOREIGN KEY ("parent_node_id") REFERENCES "public"."driver_tree_node"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_relationship_child" ADD CONSTRAINT "driver_tree_relationship_child_relationship_id_driver_tree_relationship_id_fk" FOREIGN KEY ("relationship_id") REFERENCES "public"."driver_tree_relationship"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_relationship_child" ADD CONSTRAINT "driver_tree_relationship_child_child_node_id_driver_tree_node_id_fk" FOREIGN KEY ("child_node_id") REFERENCES "public"."driver_tree_node"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_template" ADD CONSTRAINT "driver_tree_template_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_template" ADD CONSTRAINT "driver_tree_template_source_tree_id_driver_tree_id_fk" FOREIGN KEY ("source_tree_id") REFERENCES "public"."driver_tree"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_tree_template" ADD CONSTRAINT "driver_tree_template_created_by_user_account_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ix_dt_tree_project" ON "driver_tree" USING btree ("project_id","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_dt_tree_name" ON "driver_tree" USING btree ("project_id",lower("name"));--> statement-breakpoint
CREATE INDEX "ix_dt_category_industry" ON "driver_tree_category" USING btree ("industry_id");--> statement-breakpoint
CREATE INDEX "ix_dt_category_driver_type" ON "driver_tree_category" USING btree ("driver_type_id");--> statement-breakpoint
CREATE INDEX "ix_dt_file_selected" ON "driver_tree_file" USING btree ("project_file_id") WHERE "driver_tree_file"."is_selected";--> statement-breakpoint
CREATE UNIQUE INDEX "uq_dt_node_label" ON "driver_tree_node" USING btree ("driver_tree_id","label");--> statement-breakpoint
CREATE INDEX "ix_dt_node_label_lower" ON "driver_tree_node" USING btree ("driver_tree_id",lower("label"));--> statement-breakpoint
CREATE INDEX "ix_dt_node_sheet" ON "driver_tree_node" USING btree ("bound_sheet_id");--> statement-breakpoint
CREATE INDEX "ix_dt_policy_node" ON "driver_tree_policy" USING btree ("node_id");--> statement-breakpoint
CREATE INDEX "ix_dt_relationship_tree" ON "driver_tree_relationship" USING btree ("driver_tree_id");--> statement-breakpoint
CREATE INDEX "ix_dt_child_node" ON "driver_tree_relationship_child" USING btree ("child_node_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_dt_template_name" ON "driver_tree_template" USING btree ("project_id",lower("name"));--> statement-breakpoint
CREATE INDEX "ix_dt_template_category" ON "driver_tree_template" USING btree ("project_id","category");--> statement-breakpoint
CREATE INDEX "ix_dt_template_public" ON "driver_tree_template" USING btree ("category") WHERE "driver_tree_template"."is_public";