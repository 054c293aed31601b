import type { TObject, TProperties, TSchema } from "@sinclair/typebox";
import { t } from "elysia";

/* Shared TypeBox building blocks so every route's OpenAPI shape agrees with api.md §1. */

export const Uuid = t.String({ format: "uuid", description: "UUID" });
export const Ts = t.String({ format: "date-time", description: "ISO-8601 UTC timestamp" });
export const DateStr = t.String({ format: "date", description: "YYYY-MM-DD" });

/** Request bodies and queries are closed: unknown keys are a 422, never silently dropped. */
export const Closed = <P extends TProperties>(
  properties: P,
  options: { description?: string } = {},
): TObject<P> => t.Object(properties, { additionalProperties: false, ...options });

export const PageQuery = {
  skip: t.Optional(t.Integer({ minimum: 0, default: 0 })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, default: 50 })),
};

export const Page = <T extends TSchema>(item: T) =>
  t.Object({ items: t.Array(item), total: t.Integer(), skip: t.Integer(), limit: t.Integer() });

export const UserRef = t.Object({
  id: Uuid,
  email: t.String(),
  displayName: t.Union([t.String(), t.Null()]),
});

export const Problem = t.Object(
  {
    type: t.String(),
    title: t.String(),
    status: t.Integer(),
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
