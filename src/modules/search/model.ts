import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, Uuid } from "@/lib/schema";

export const SEARCH_TYPES = ["project", "session", "file", "tree"] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];

const TYPE = "(project|session|file|tree)";

export const SearchQuery = Closed({
  q: t.String({
    minLength: 2,
    maxLength: 100,
    description: "Text to find (case-insensitive substring; `%`, `_` and `\\` match themselves)",
  }),
  types: t.Optional(
    t.String({
      pattern: `^${TYPE}(,${TYPE})*$`,
      maxLength: 100,
      description: "Comma list of project, session, file, tree (default: all four)",
    }),
  ),
  projectId: t.Optional(IdOf("Only this project's")),
  ...PageQuery,
});

const SearchType = t.Union([
  t.Literal("project"),
  t.Literal("session"),
  t.Literal("file"),
  t.Literal("tree"),
]);

export const SearchHit = t.Object(
  {
    type: SearchType,
    id: Uuid,
    name: t.String(),
    description: t.Union([t.String(), t.Null()]),
    matchedField: t.String({ description: "name, code, description or originalFilename" }),
    highlightedText: t.String({
      description: "The matched field, HTML-escaped, with its first match wrapped in <mark>…</mark>",
    }),
    projectId: Uuid,
    projectName: t.String(),
    updatedAt: Ts,
    url: t.String({ description: "Where the front end shows the object" }),
  },
  { title: "SearchHit" },
);

export const SearchResults = t.Object(
  {
    items: t.Array(SearchHit),
    total: Int({ minimum: 0, description: "Number of hits of all types" }),
    skip: Int({ minimum: 0 }),
    limit: Int({ minimum: 1 }),
    query: t.String({ description: "The text searched for (trimmed)" }),
    types: t.Array(SearchType, { description: "The types searched" }),
  },
  { title: "SearchResults" },
);
