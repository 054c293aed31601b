import { sql } from "drizzle-orm";
import { userAccount } from "@/db/schema";
import { likePattern } from "@/lib/schema";

/*
 * The columns of a user reference (`{ id, email, displayName }`) as a nested selection: on a left
 * join without a match Drizzle answers null for the whole object, so callers map no ids by hand.
 */
export const userRef = { id: userAccount.id, email: userAccount.email, displayName: userAccount.displayName };

/* The user search of member and user lists: the text is found in the e-mail or the display name. */
export const userMatches = (q: string) =>
  sql`(lower(${userAccount.email}) like lower(${likePattern(q)}) or lower(coalesce(${userAccount.displayName}, '')) like lower(${likePattern(q)}))`;
