import { type IntegerOptions, type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { t } from "elysia";

/*
 * Shared TypeBox building blocks so every route's OpenAPI shape agrees with api.md §1.
 *
 * Naming: a schema that is a request body or a response (or a reusable part of one) carries a
 * `title`; the OpenAPI document hoists titled schemas into `components.schemas` under that name
 * (src/plugins/openapi-document.ts). `title` is an annotation only, so validation is unaffected.
 */

export const INT32_MAX = 2 ** 31 - 1;

export const Uuid = t.String({ format: "uuid", description: "UUID" });
/** A path or filter id, described for the document ("Project id (UUID)"). */
export const IdOf = (what: string) => t.String({ format: "uuid", description: `${what} id (UUID)` });
export const Ts = t.String({ format: "date-time", description: "ISO-8601 UTC timestamp" });
export const DateStr = t.String({ format: "date", description: "YYYY-MM-DD" });

/** Request bodies and queries are closed: unknown keys are a 422, never silently dropped. */
export const Closed = <P extends TProperties>(
  properties: P,
  options: { title?: string; description?: string; examples?: unknown[] } = {},
): TObject<P> => t.Object(properties, { additionalProperties: false, ...options });

/**
 * An integer in a JSON body or response. Elysia's `t.Integer` is a string-or-integer union that
 * coerces query strings; in JSON that union would accept `"5"` and document `string | number`.
 */
export const Int = (options?: IntegerOptions) => Type.Integer(options);

/**
 * An integer query parameter: Elysia's coercing `t.Integer`, so `?limit=20` arrives as 20 and
 * `?limit=abc` is a 422. The document shows it as a plain `integer` (openapi-document.ts).
 * Bounded to PostgreSQL's `integer` unless the route says otherwise: `?skip=1e21` or
 * `?skip=9223372036854775808` coerce to integers too, and would only fail inside the database.
 */
export const QueryInt = (options?: IntegerOptions) =>
  t.Integer({ minimum: -INT32_MAX - 1, maximum: INT32_MAX, ...options });

export const PageQuery = {
  skip: t.Optional(
    QueryInt({ minimum: 0, default: 0, description: "Number of items to skip (offset), default 0" }),
  ),
  limit: t.Optional(
    QueryInt({ minimum: 1, maximum: 500, default: 50, description: "Page size, 1–500, default 50" }),
  ),
};

/** A page of `item`; named `Page_<item title>` in the document, so the item must be named. */
export const Page = <T extends TSchema>(item: T) => {
  if (!item.title) throw new Error("Page(item): the item schema needs a title to be named");
  return t.Object(
    {
      items: t.Array(item),
      total: Int({ minimum: 0, description: "Number of items matching the query" }),
      skip: Int({ minimum: 0 }),
      limit: Int({ minimum: 1 }),
    },
    { title: `Page_${item.title}` },
  );
};

export const UserRef = t.Object(
  {
    id: Uuid,
    email: t.String(),
    displayName: t.Union([t.String(), t.Null()]),
  },
  { title: "UserRef", description: "A user as shown next to what they did" },
);

export const Problem = t.Object(
  {
    type: t.String(),
    title: t.String(),
    status: Int(),
    detail: t.String(),
    instance: t.String(),
    code: t.String(),
    requestId: t.String(),
    errors: t.Optional(t.Array(t.Object({ path: t.String(), message: t.String() }))),
  },
  { additionalProperties: true, description: "RFC 9457 problem details" },
);

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** `%`, `_` and `\` escaped for a LIKE pattern (api.md §1.3). */
export const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export const page = <T>(items: T[], total: number, skip: number, limit: number) => ({
  items,
  total,
  skip,
  limit,
});

/** The documented answer of routes that reply 204 with no body. */
export const NoContent = { 204: t.Void({ description: "Done; no content" }) };

/**
 * A TypeBox schema placed in raw OpenAPI (`detail.responses`): its `anyOf` nullables are valid
 * OpenAPI 3.1 but not typed as the plugin's 3.0 schema objects. A `title` is hoisted as usual.
 */
export const docSchema = (schema: TSchema) => schema as unknown as { type: "object" };
