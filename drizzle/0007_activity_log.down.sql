DROP TABLE IF EXISTS "user_activity";
