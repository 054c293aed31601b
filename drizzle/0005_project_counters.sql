ALTER TABLE "project" ADD COLUMN "member_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "project" ADD COLUMN "file_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "project" ADD COLUMN "session_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- The counters move in the same transaction as the row that changes them, whoever writes it
-- (services, seeds, cascades from a project or user delete), so a read never sees a count that
-- disagrees with the rows it could list.
CREATE OR REPLACE FUNCTION project_member_count_sync() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE project SET member_count = member_count - 1 WHERE id = OLD.project_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE project SET member_count = member_count + 1 WHERE id = NEW.project_id;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER project_member_count AFTER INSERT OR DELETE OR UPDATE OF project_id ON project_member
  FOR EACH ROW EXECUTE FUNCTION project_member_count_sync();
--> statement-breakpoint
-- Only the latest version of a chain counts as a file.
CREATE OR REPLACE FUNCTION project_file_count_sync() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.is_latest THEN
    UPDATE project SET file_count = file_count - 1 WHERE id = OLD.project_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.is_latest THEN
    UPDATE project SET file_count = file_count + 1 WHERE id = NEW.project_id;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER project_file_count AFTER INSERT OR DELETE OR UPDATE OF project_id, is_latest ON project_file
  FOR EACH ROW EXECUTE FUNCTION project_file_count_sync();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION project_session_count_sync() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE project SET session_count = session_count - 1 WHERE id = OLD.project_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE project SET session_count = session_count + 1 WHERE id = NEW.project_id;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER project_session_count AFTER INSERT OR DELETE OR UPDATE OF project_id ON analysis_session
  FOR EACH ROW EXECUTE FUNCTION project_session_count_sync();
--> statement-breakpoint
UPDATE project p SET
  member_count = (SELECT count(*) FROM project_member m WHERE m.project_id = p.id),
  file_count = (SELECT count(*) FROM project_file f WHERE f.project_id = p.id AND f.is_latest),
  session_count = (SELECT count(*) FROM analysis_session s WHERE s.project_id = p.id);
