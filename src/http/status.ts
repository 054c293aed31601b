/*
 * Status helpers for Elysia handlers that answer something other than 200 with a body: they set
 * the status (and Location) on the handler's `set` and pass the value through, so a handler stays
 * one expression.
 */

type Set = { status?: number | string; headers: Record<string, string | number> };

/** 201 with `value`, and its Location when it has one. */
export function created<T>(set: Set, value: T, location?: string): T {
  set.status = 201;
  if (location) set.headers.Location = location;
  return value;
}

/** 204; `_done` lets a handler pass the awaited write in one expression. */
export function noContent(set: Set, _done?: unknown): undefined {
  set.status = 204;
  return undefined;
}
