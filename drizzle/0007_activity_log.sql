CREATE TABLE "user_activity" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid,
	"action_type" varchar(12) NOT NULL,
	"resource_type" varchar(50),
	"resource_id" uuid,
	"project_id" uuid,
	"method" varchar(7) NOT NULL,
	"route" varchar(255) NOT NULL,
	"path" varchar(1024) NOT NULL,
	"status_code" smallint NOT NULL,
	"duration_ms" integer DEFAULT 0 NOT NULL,
	"error_code" varchar(64),
	"error_message" varchar(1000),
	"request_body" jsonb,
	"ip_address" "inet",
	"user_agent" varchar(500),
	"request_id" varchar(64) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_activity_action" CHECK (action_type IN ('CREATE', 'READ', 'UPDATE', 'DELETE', 'LOGIN', 'LOGOUT', 'EXPORT', 'IMPORT', 'BULK_UPDATE', 'ERROR'))
);
--> statement-breakpoint
ALTER TABLE "user_activity" ADD CONSTRAINT "user_activity_user_id_user_account_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_account"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ix_activity_created" ON "user_activity" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_activity_user" ON "user_activity" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_activity_resource" ON "user_activity" USING btree ("resource_type","resource_id");--> statement-breakpoint
CREATE INDEX "ix_activity_project" ON "user_activity" USING btree ("project_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ix_activity_errors" ON "user_activity" USING btree ("created_at" DESC NULLS LAST) WHERE "user_activity"."status_code" >= 400;