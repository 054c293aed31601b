CREATE TABLE "notification_template" (
	"id" uuid PRIMARY KEY NOT NULL,
	"event_type" varchar(20) NOT NULL,
	"language" varchar(5) NOT NULL,
	"name" varchar(100) NOT NULL,
	"title_template" varchar(255) NOT NULL,
	"body_template" text NOT NULL,
	"variables" text[] DEFAULT '{}'::text[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_template_event" CHECK (event_type IN ('member_added', 'member_removed', 'file_uploaded', 'session_completed', 'tree_updated', 'announcement')),
	CONSTRAINT "ck_template_language" CHECK (language IN ('ja', 'en'))
);
--> statement-breakpoint
CREATE TABLE "system_announcement" (
	"id" uuid PRIMARY KEY NOT NULL,
	"title" varchar(200) NOT NULL,
	"content" text NOT NULL,
	"announcement_type" varchar(12) NOT NULL,
	"priority" smallint DEFAULT 5 NOT NULL,
	"start_at" timestamp with time zone DEFAULT now() NOT NULL,
	"end_at" timestamp with time zone,
	"is_active" boolean DEFAULT true NOT NULL,
	"target_roles" text[],
	"notify" boolean DEFAULT false NOT NULL,
	"notified_at" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_announcement_type" CHECK (announcement_type IN ('INFO', 'WARNING', 'MAINTENANCE', 'RELEASE', 'URGENT')),
	CONSTRAINT "ck_announcement_priority" CHECK ("system_announcement"."priority" BETWEEN 1 AND 10),
	CONSTRAINT "ck_announcement_range" CHECK ("system_announcement"."end_at" IS NULL OR "system_announcement"."end_at" > "system_announcement"."start_at")
);
--> statement-breakpoint
CREATE TABLE "user_notification" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"type" varchar(20) NOT NULL,
	"title" varchar(255) NOT NULL,
	"message" text,
	"icon" varchar(16),
	"link_url" varchar(500),
	"project_id" uuid,
	"reference_type" varchar(12),
	"reference_id" uuid,
	"actor_id" uuid,
	"is_read" boolean DEFAULT false NOT NULL,
	"read_at" timestamp with time zone,
	"dedupe_key" varchar(200),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_notification_type" CHECK (type IN ('member_added', 'member_removed', 'file_uploaded', 'session_completed', 'tree_updated', 'announcement')),
	CONSTRAINT "ck_notification_ref_type" CHECK (reference_type IN ('project', 'session', 'file', 'tree', 'announcement'))
);
--> statement-breakpoint
ALTER TABLE "system_announcement" ADD CONSTRAINT "system_announcement_created_by_user_account_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_notification" ADD CONSTRAINT "user_notification_user_id_user_account_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_notification" ADD CONSTRAINT "user_notification_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_notification" ADD CONSTRAINT "user_notification_actor_id_user_account_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_notification_template" ON "notification_template" USING btree ("event_type","language");--> statement-breakpoint
CREATE INDEX "ix_announcement_window" ON "system_announcement" USING btree ("is_active","start_at","end_at");--> statement-breakpoint
CREATE INDEX "ix_announcement_pending" ON "system_announcement" USING btree ("start_at") WHERE "system_announcement"."notify" AND "system_announcement"."notified_at" IS NULL;--> statement-breakpoint
CREATE INDEX "ix_notification_user" ON "user_notification" USING btree ("user_id","is_read","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "uq_notification_unread_dedupe" ON "user_notification" USING btree ("user_id","dedupe_key") WHERE NOT "user_notification"."is_read" AND "user_notification"."dedupe_key" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "ix_notification_project" ON "user_notification" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "ix_notification_read_at" ON "user_notification" USING btree ("read_at") WHERE "user_notification"."is_read";