DROP TABLE IF EXISTS "user_notification";--> statement-breakpoint
DROP TABLE IF EXISTS "notification_template";--> statement-breakpoint
DROP TABLE IF EXISTS "system_announcement";
