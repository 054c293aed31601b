import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { authPlugin } from "@/plugins/auth";
import { RoleCatalogue } from "./model";
import * as service from "./service";

/*
 * The one route under /admin that is NOT behind the admin guard (api.md §2.12: "GET /admin/role
 * is explicitly exempted"): every signed-in user may read the role catalogue. It uses the `auth`
 * macro instead of `admin`; tests/admin-guard.test.ts refuses any other /admin route that answers
 * a non-admin, and this list is the only way to be let through.
 */
export const ADMIN_GUARD_EXEMPTIONS = ["GET /api/v1/admin/role"] as const;

export function adminRoleController(deps: AppDeps) {
  return new Elysia({ name: "admin-role", prefix: "/admin/role" })
    .use(authPlugin(deps))
    .get("", () => service.roleCatalogue(), {
      auth: true,
      response: RoleCatalogue,
      detail: {
        tags: ["admin"],
        operationId: "admin.role.catalogue",
        summary: "The system and project roles with their permissions",
        description:
          "Any signed-in user (the one /admin route without the admin guard). Fixed content: the role matrix, each project role with its rank and the permissions it holds.",
      },
    });
}
