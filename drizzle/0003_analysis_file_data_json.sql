ALTER TABLE "analysis_file" ALTER COLUMN "data" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "analysis_file" ALTER COLUMN "data" SET DATA TYPE json USING "data"::json;--> statement-breakpoint
ALTER TABLE "analysis_file" ALTER COLUMN "data" SET DEFAULT '[]'::json;
