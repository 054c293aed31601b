import type { DbOrTx } from "@/db/client";
import { problem } from "@/lib/errors";
import { SEARCH_TYPES, type SearchType } from "./model";
import { type SearchRow, type SearchScope, searchAll } from "./queries";

/* Cross-type search (api.md §2.11): scope is decided by the controller, matching by the database. */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);

/**
 * `text` HTML-escaped with its first case-insensitive occurrence of `q` in <mark>. The match is
 * found in the raw text and each side is escaped on its own, which is the same as marking the
 * escaped text at the escaped boundaries, but cannot split an entity (`&amp;`) or match inside
 * one (a search for "amp" in "a&b"). No match in JavaScript's case folding → escaped text only.
 */
export function highlight(text: string, q: string): string {
  const m = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "iu").exec(text);
  if (!m) return escapeHtml(text);
  const end = m.index + m[0].length;
  return `${escapeHtml(text.slice(0, m.index))}<mark>${escapeHtml(m[0])}</mark>${escapeHtml(text.slice(end))}`;
}

function urlOf(r: SearchRow): string {
  switch (r.type) {
    case "project":
      return `/projects/${r.id}`;
    case "session":
      return `/projects/${r.projectId}/analysis/sessions/${r.id}`;
    case "file":
      return `/projects/${r.projectId}/files/${r.chainId}`;
    default:
      return `/projects/${r.projectId}/driver-trees/${r.id}`;
  }
}

export function parseTypes(types: string | undefined): SearchType[] {
  if (!types) return [...SEARCH_TYPES];
  const wanted = new Set(types.split(","));
  return SEARCH_TYPES.filter((t) => wanted.has(t));
}

export async function search(
  db: DbOrTx,
  scope: SearchScope,
  query: { q: string; types?: string; skip?: number; limit?: number },
) {
  const q = query.q.trim();
  if (q.length < 2) {
    throw problem("VALIDATION_FAILED", {
      detail: "The search text needs at least 2 characters besides spaces.",
      errors: [{ path: "/query/q", message: "Expected at least 2 characters after trimming" }],
    });
  }
  const types = parseTypes(query.types);
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { rows, total } = await searchAll(db, q, types, scope, skip, limit);
  return {
    items: rows.map((r) => ({
      type: r.type as SearchType,
      id: r.id,
      name: r.name,
      description: r.description,
      matchedField: r.matchedField,
      highlightedText: highlight(r.matchedText ?? "", q),
      projectId: r.projectId,
      projectName: r.projectName,
      updatedAt: r.updatedAt,
      url: urlOf(r),
    })),
    total,
    skip,
    limit,
    query: q,
    types,
  };
}
