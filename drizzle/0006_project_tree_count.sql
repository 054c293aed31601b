ALTER TABLE "project" ADD COLUMN "tree_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Like the counters of 0005: moved by a trigger in the transaction that adds or removes the tree,
-- whoever writes it (tree routes, template apply, duplicate, a project delete's cascade).
CREATE OR REPLACE FUNCTION project_tree_count_sync() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE project SET tree_count = tree_count - 1 WHERE id = OLD.project_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE project SET tree_count = tree_count + 1 WHERE id = NEW.project_id;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER project_tree_count AFTER INSERT OR DELETE OR UPDATE OF project_id ON driver_tree
  FOR EACH ROW EXECUTE FUNCTION project_tree_count_sync();
--> statement-breakpoint
UPDATE project p SET tree_count = (SELECT count(*) FROM driver_tree t WHERE t.project_id = p.id);
