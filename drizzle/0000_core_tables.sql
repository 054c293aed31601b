CREATE TABLE "audit_log" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid,
	"actor_email" varchar(320),
	"event_type" varchar(12) NOT NULL,
	"action" varchar(50) NOT NULL,
	"resource_type" varchar(50) NOT NULL,
	"resource_id" uuid,
	"project_id" uuid,
	"outcome" varchar(8) DEFAULT 'success' NOT NULL,
	"status_code" smallint,
	"severity" varchar(8) DEFAULT 'INFO' NOT NULL,
	"old_value" jsonb,
	"new_value" jsonb,
	"changed_fields" text[] DEFAULT '{}'::text[] NOT NULL,
	"ip_address" "inet",
	"user_agent" varchar(500),
	"request_id" varchar(64),
	"metadata" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_audit_event_type" CHECK (event_type IN ('DATA_CHANGE', 'ACCESS', 'SECURITY', 'SYSTEM')),
	CONSTRAINT "ck_audit_outcome" CHECK (outcome IN ('success', 'denied', 'failed')),
	CONSTRAINT "ck_audit_severity" CHECK (severity IN ('INFO', 'WARNING', 'ERROR', 'CRITICAL'))
);
--> statement-breakpoint
CREATE TABLE "role_history" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"changed_by_id" uuid,
	"role_type" varchar(10) NOT NULL,
	"project_id" uuid,
	"action" varchar(10) NOT NULL,
	"old_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"new_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"reason" varchar(500),
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_role_history_type" CHECK (role_type IN ('system', 'project')),
	CONSTRAINT "ck_role_history_action" CHECK (action IN ('grant', 'revoke', 'update'))
);
--> statement-breakpoint
CREATE TABLE "storage_deletion_queue" (
	"id" uuid PRIMARY KEY NOT NULL,
	"container" varchar(20) NOT NULL,
	"storage_key" varchar(1024) NOT NULL,
	"reason" varchar(50) NOT NULL,
	"attempts" smallint DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_storage_deletion" UNIQUE("container","storage_key"),
	CONSTRAINT "ck_storage_deletion_container" CHECK (container IN ('uploads', 'analysis', 'public'))
);
--> statement-breakpoint
CREATE TABLE "system_setting" (
	"id" uuid PRIMARY KEY NOT NULL,
	"category" varchar(12) NOT NULL,
	"key" varchar(100) NOT NULL,
	"value" jsonb NOT NULL,
	"value_type" varchar(8) NOT NULL,
	"description" text,
	"is_secret" boolean DEFAULT false NOT NULL,
	"is_editable" boolean DEFAULT true NOT NULL,
	"updated_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_system_setting" UNIQUE("category","key"),
	CONSTRAINT "ck_setting_category" CHECK (category IN ('GENERAL', 'SECURITY', 'NOTIFICATION', 'MAINTENANCE', 'STORAGE', 'API', 'RETENTION', 'LLM')),
	CONSTRAINT "ck_setting_type" CHECK (value_type IN ('STRING', 'NUMBER', 'BOOLEAN', 'JSON'))
);
--> statement-breakpoint
CREATE TABLE "user_account" (
	"id" uuid PRIMARY KEY NOT NULL,
	"azure_oid" varchar(255),
	"email" varchar(320) NOT NULL,
	"display_name" varchar(255),
	"idp_name" varchar(255),
	"roles" text[] DEFAULT '{user}'::text[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"deactivated_at" timestamp with time zone,
	"source" varchar(10) DEFAULT 'sso' NOT NULL,
	"last_login_at" timestamp with time zone,
	"login_count" integer DEFAULT 0 NOT NULL,
	"tokens_valid_after" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_user_roles" CHECK ("user_account"."roles" <@ '{system_admin,user}'::text[] AND cardinality("user_account"."roles") >= 1),
	CONSTRAINT "ck_user_source" CHECK (source IN ('sso', 'import', 'seed')),
	CONSTRAINT "ck_user_login_count" CHECK ("user_account"."login_count" >= 0)
);
--> statement-breakpoint
CREATE TABLE "user_session" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"session_key_hash" char(64) NOT NULL,
	"key_source" varchar(5) NOT NULL,
	"ip_address" "inet",
	"user_agent" varchar(500),
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_activity_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" varchar(12),
	"ended_by" uuid,
	"end_note" varchar(500),
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_user_session_key" UNIQUE("session_key_hash"),
	CONSTRAINT "ck_user_session_source" CHECK (key_source IN ('sid', 'token', 'dev')),
	CONSTRAINT "ck_user_session_reason" CHECK (end_reason IN ('MANUAL', 'FORCED', 'EXPIRED', 'DEACTIVATED')),
	CONSTRAINT "ck_user_session_ended" CHECK (("user_session"."ended_at" IS NULL) = ("user_session"."end_reason" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "user_settings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"theme" varchar(10) DEFAULT 'light' NOT NULL,
	"language" varchar(5) DEFAULT 'ja' NOT NULL,
	"timezone" varchar(64) DEFAULT 'Asia/Tokyo' NOT NULL,
	"notify_email" boolean DEFAULT true NOT NULL,
	"notify_member_changes" boolean DEFAULT true NOT NULL,
	"notify_file_uploaded" boolean DEFAULT true NOT NULL,
	"notify_session_completed" boolean DEFAULT true NOT NULL,
	"notify_tree_updated" boolean DEFAULT true NOT NULL,
	"notify_announcement" boolean DEFAULT true NOT NULL,
	"items_per_page" smallint DEFAULT 20 NOT NULL,
	"default_project_view" varchar(10) DEFAULT 'grid' NOT NULL,
	"show_welcome_message" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_user_settings_user" UNIQUE("user_id"),
	CONSTRAINT "ck_settings_theme" CHECK (theme IN ('light', 'dark', 'system')),
	CONSTRAINT "ck_settings_language" CHECK (language IN ('ja', 'en')),
	CONSTRAINT "ck_settings_items" CHECK ("user_settings"."items_per_page" BETWEEN 10 AND 100),
	CONSTRAINT "ck_settings_view" CHECK (default_project_view IN ('grid', 'list'))
);
--> statement-breakpoint
CREATE TABLE "project" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" varchar(255) NOT NULL,
	"code" varchar(50) NOT NULL,
	"description" text,
	"is_active" boolean DEFAULT true NOT NULL,
	"deactivated_at" timestamp with time zone,
	"created_by" uuid,
	"start_date" date,
	"end_date" date,
	"budget" numeric(15, 2),
	"storage_bytes" bigint DEFAULT 0 NOT NULL,
	"last_activity_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_project_dates" CHECK ("project"."end_date" >= "project"."start_date"),
	CONSTRAINT "ck_project_budget" CHECK ("project"."budget" >= 0)
);
--> statement-breakpoint
CREATE TABLE "project_file" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"chain_id" uuid NOT NULL,
	"parent_file_id" uuid,
	"restored_from_id" uuid,
	"version" integer NOT NULL,
	"is_latest" boolean DEFAULT true NOT NULL,
	"filename" varchar(255) NOT NULL,
	"original_filename" varchar(255) NOT NULL,
	"storage_key" varchar(1024) NOT NULL,
	"kind" varchar(5) NOT NULL,
	"mime_type" varchar(100) NOT NULL,
	"size_bytes" bigint NOT NULL,
	"checksum_sha256" char(64) NOT NULL,
	"comment" varchar(500),
	"uploaded_by" uuid,
	"uploaded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_project_file_key" UNIQUE("storage_key"),
	CONSTRAINT "uq_project_file_chain_version" UNIQUE("chain_id","version"),
	CONSTRAINT "ck_project_file_version" CHECK ("project_file"."version" >= 1),
	CONSTRAINT "ck_project_file_size" CHECK ("project_file"."size_bytes" >= 0),
	CONSTRAINT "ck_project_file_kind" CHECK (kind IN ('xlsx', 'xlsm', 'xls', 'docx', 'csv', 'txt', 'json', 'pdf', 'png', 'jpeg', 'gif'))
);
--> statement-breakpoint
CREATE TABLE "project_member" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" varchar(20) DEFAULT 'member' NOT NULL,
	"joined_at" timestamp with time zone DEFAULT now() NOT NULL,
	"added_by" uuid,
	"last_activity_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_project_member" UNIQUE("project_id","user_id"),
	CONSTRAINT "ck_project_member_role" CHECK (role IN ('project_manager', 'project_moderator', 'member', 'viewer'))
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_user_id_user_account_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_history" ADD CONSTRAINT "role_history_user_id_user_account_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_history" ADD CONSTRAINT "role_history_changed_by_id_user_account_id_fk" FOREIGN KEY ("changed_by_id") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_history" ADD CONSTRAINT "role_history_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "system_setting" ADD CONSTRAINT "system_setting_updated_by_user_account_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_session" ADD CONSTRAINT "user_session_user_id_user_account_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_session" ADD CONSTRAINT "user_session_ended_by_user_account_id_fk" FOREIGN KEY ("ended_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_settings" ADD CONSTRAINT "user_settings_user_id_user_account_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project" ADD CONSTRAINT "project_created_by_user_account_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_file" ADD CONSTRAINT "project_file_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_file" ADD CONSTRAINT "project_file_parent_file_id_project_file_id_fk" FOREIGN KEY ("parent_file_id") REFERENCES "public"."project_file"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_file" ADD CONSTRAINT "project_file_restored_from_id_project_file_id_fk" FOREIGN KEY ("restored_from_id") REFERENCES "public"."project_file"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_file" ADD CONSTRAINT "project_file_uploaded_by_user_account_id_fk" FOREIGN KEY ("uploaded_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_member" ADD CONSTRAINT "project_member_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_member" ADD CONSTRAINT "project_member_user_id_user_account_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_member" ADD CONSTRAINT "project_member_added_by_user_account_id_fk" FOREIGN KEY ("added_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ix_audit_created" ON "audit_log" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_audit_user" ON "audit_log" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_audit_resource" ON "audit_log" USING btree ("resource_type","resource_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_audit_project" ON "audit_log" USING btree ("project_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_audit_type" ON "audit_log" USING btree ("event_type","severity","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_role_history_user" ON "role_history" USING btree ("user_id","changed_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_role_history_project" ON "role_history" USING btree ("project_id","changed_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_storage_deletion_next" ON "storage_deletion_queue" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_user_oid" ON "user_account" USING btree ("azure_oid") WHERE "user_account"."azure_oid" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_user_email" ON "user_account" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "ix_user_active" ON "user_account" USING btree ("is_active");--> statement-breakpoint
CREATE INDEX "ix_user_active_admin" ON "user_account" USING btree ("id") WHERE "user_account"."is_active" AND 'system_admin' = ANY("user_account"."roles");--> statement-breakpoint
CREATE INDEX "ix_user_last_login" ON "user_account" USING btree ("last_login_at");--> statement-breakpoint
CREATE INDEX "ix_user_session_user" ON "user_session" USING btree ("user_id","ended_at");--> statement-breakpoint
CREATE INDEX "ix_user_session_expiry" ON "user_session" USING btree ("expires_at") WHERE "user_session"."ended_at" IS NULL;--> statement-breakpoint
CREATE INDEX "ix_user_session_started" ON "user_session" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "ix_user_session_ip" ON "user_session" USING btree ("ip_address");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_project_code" ON "project" USING btree (lower("code"));--> statement-breakpoint
CREATE INDEX "ix_project_active_activity" ON "project" USING btree ("is_active","last_activity_at");--> statement-breakpoint
CREATE INDEX "ix_project_created" ON "project" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "ix_project_name" ON "project" USING btree (lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "uq_project_file_latest" ON "project_file" USING btree ("chain_id") WHERE "project_file"."is_latest";--> statement-breakpoint
CREATE INDEX "ix_project_file_latest" ON "project_file" USING btree ("project_id","is_latest","uploaded_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_project_file_name" ON "project_file" USING btree ("project_id",lower("original_filename"));--> statement-breakpoint
CREATE INDEX "ix_project_file_uploader" ON "project_file" USING btree ("uploaded_by");--> statement-breakpoint
CREATE INDEX "ix_project_member_user" ON "project_member" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "ix_project_member_role" ON "project_member" USING btree ("project_id","role");