import { PROJECT_ROLES, type ProjectRole, ROLE_RANK } from "@/modules/project/access";
import type { RoleCatalogue } from "./model";

/*
 * The role catalogue (api.md §2.12.12): the decisions.md role matrix as data. Each permission
 * names the lowest project role that holds it; a role's permissions are derived from ROLE_RANK,
 * the table the project guards compare (`hasRole`), so the catalogue cannot promise a role
 * something the guards refuse, or the other way round.
 */
export const PROJECT_PERMISSIONS = [
  { key: "project.read", minRole: "viewer", description: "Read anything in the project" },
  {
    key: "content.create",
    minRole: "member",
    description: "Upload files, create analysis sessions, driver trees and templates",
  },
  { key: "content.editOwn", minRole: "member", description: "Edit or delete own files, sessions and trees" },
  { key: "content.editAny", minRole: "project_moderator", description: "Edit or delete anyone's content" },
  {
    key: "members.manage",
    minRole: "project_moderator",
    description: "Add, remove and re-role viewers and members",
  },
  {
    key: "managers.manage",
    minRole: "project_manager",
    description: "Add, remove and re-role moderators and managers",
  },
  {
    key: "project.manage",
    minRole: "project_manager",
    description: "Edit, deactivate and delete the project",
  },
] as const satisfies readonly { key: string; minRole: ProjectRole; description: string }[];

export type ProjectPermission = (typeof PROJECT_PERMISSIONS)[number]["key"];

export const permissionsOf = (role: ProjectRole): ProjectPermission[] =>
  PROJECT_PERMISSIONS.filter((p) => ROLE_RANK[role] >= ROLE_RANK[p.minRole]).map((p) => p.key);

const PROJECT_ROLE_TEXT: Record<ProjectRole, { label: string; description: string }> = {
  project_manager: {
    label: "Project manager",
    description:
      "Full control of the project: content, every member and role, settings, deactivation and deletion. A project always keeps at least one.",
  },
  project_moderator: {
    label: "Project moderator",
    description: "Edits or deletes anyone's content and manages viewers and members.",
  },
  member: {
    label: "Member",
    description:
      "Uploads files and creates analysis sessions, driver trees and templates; edits own content.",
  },
  viewer: { label: "Viewer", description: "Reads everything in the project; changes nothing." },
};

const CATALOGUE: RoleCatalogue = {
  systemRoles: [
    {
      value: "system_admin",
      label: "System administrator",
      description:
        "Administers the service (users, masters, settings, logs, statistics) and acts as project manager on every project; such project access is audited.",
    },
    {
      value: "user",
      label: "User",
      description: "Signs in and works in the projects they are a member of, with their project role.",
    },
  ],
  projectRoles: [...PROJECT_ROLES]
    .sort((a, b) => ROLE_RANK[b] - ROLE_RANK[a])
    .map((role) => ({
      value: role,
      rank: ROLE_RANK[role],
      ...PROJECT_ROLE_TEXT[role],
      permissions: permissionsOf(role),
    })),
};

export const roleCatalogue = (): RoleCatalogue => CATALOGUE;
