import { randomUUIDv7 } from "bun";

/* Time-ordered UUIDv7 ids keep btree inserts local and sort by creation. */
export function newId(): string {
  return randomUUIDv7();
}
