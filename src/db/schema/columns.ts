import { sql } from "drizzle-orm";
import { timestamp, uuid } from "drizzle-orm/pg-core";

/* Ids are set by the application (UUIDv7), never by the database. */
export const id = () => uuid("id").primaryKey();

export const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const createdAt = () => ts("created_at").notNull().defaultNow();
export const updatedAt = () => ts("updated_at").notNull().defaultNow();

export const emptyTextArray = sql`'{}'::text[]`;

/** `CHECK (col IN (...))` for a varchar enumeration, so values match the wire exactly. */
export function inList(column: string, values: readonly string[]) {
  return sql.raw(`${column} IN (${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(", ")})`);
}
