/*
 * The one way tests read a JSON answer. Assertions, not types, check the shape, so the body is a
 * record whose fields may be read freely; pass the model type (`json<Project>(res)`) where the
 * test relies on it. New route tests can use `client(app)` (Eden treaty) for typed requests.
 */
import { treaty } from "@elysiajs/eden";
import type { App } from "@/app";

export type Body = Record<string, any>;

export async function json<T = Body>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export const client = (app: App) => treaty<App>(app);
