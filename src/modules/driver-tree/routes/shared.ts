import { Elysia } from "elysia";
import type { AuditActor } from "@/db/queries/audit";
import type { AppDeps } from "@/deps";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import { projectAccessPlugin } from "@/plugins/project-access";
import { createFrameCache, type FrameCache } from "../frame-cache";
import type { TreeDeps } from "../service";
import { createSheetPreviewCache, type SheetPreviewCache } from "../sheets";

/* What the driver-tree route groups share: the prefix with the project guard, and the write deps. */

export const ROUTE_PREFIX = "/project/:projectId/driver-tree";
export const TAGS = ["driver-tree"];

export type RouteContext = {
  deps: AppDeps;
  db: AppDeps["database"]["db"];
  treeDeps: (auth: { actor: AuditActor }) => TreeDeps;
  /** This app's parsed sheet columns (evaluation reads them per request otherwise). */
  frames: FrameCache;
  /** This app's parsed sheet previews (the sheet detail route parses the workbook otherwise). */
  previews: SheetPreviewCache;
};

export function routeContext(deps: AppDeps): RouteContext {
  const db = deps.database.db;
  const frames = deps.driverTreeFrames ?? createFrameCache();
  return {
    deps,
    db,
    treeDeps: (auth) => ({ db, actor: auth.actor, frames }),
    frames,
    previews: createSheetPreviewCache(),
  };
}

export const routeGroup = (ctx: RouteContext, name: string) =>
  new Elysia({ name, prefix: ROUTE_PREFIX }).use(projectAccessPlugin(ctx.deps));

type WriteRequest = { caller: Caller; auth: { actor: AuditActor }; access: ProjectAccess };

/** The leading arguments of every write: deps, caller, access. */
export const writer = (ctx: RouteContext, r: WriteRequest) =>
  [ctx.treeDeps(r.auth), r.caller, r.access] as const;

export const treeUrl = (projectId: string, treeId: string) =>
  `/api/v1/project/${projectId}/driver-tree/tree/${treeId}`;
