import { t } from "elysia";
import { Int } from "@/lib/schema";
import { ProjectRole } from "@/modules/project/model";

export const SystemRole = t.Union([t.Literal("system_admin"), t.Literal("user")]);

export const RoleCatalogue = t.Object(
  {
    systemRoles: t.Array(t.Object({ value: SystemRole, label: t.String(), description: t.String() })),
    projectRoles: t.Array(
      t.Object({
        value: ProjectRole,
        rank: Int({ minimum: 1, description: "Higher ranks hold every permission of the lower ones" }),
        label: t.String(),
        description: t.String(),
        permissions: t.Array(t.String(), { description: "Permission keys this role holds in a project" }),
      }),
    ),
  },
  { title: "RoleCatalogue" },
);

export type RoleCatalogue = typeof RoleCatalogue.static;
