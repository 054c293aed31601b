ALTER TABLE "analysis_file" ALTER COLUMN "data" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "analysis_file" ALTER COLUMN "data" SET DATA TYPE jsonb USING "data"::jsonb;--> statement-breakpoint
ALTER TABLE "analysis_file" ALTER COLUMN "data" SET DEFAULT '[]'::jsonb;
