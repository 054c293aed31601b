import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { bindingsRoutes } from "./routes/bindings";
import { dataFilesRoutes } from "./routes/data-files";
import { nodesRoutes } from "./routes/nodes";
import { outputsRoutes } from "./routes/outputs";
import { routeContext } from "./routes/shared";
import { treesRoutes } from "./routes/trees";

/* The driver-tree controller (api.md §2.8): trees, nodes and policies under `…/driver-tree`. */
export function driverTreeController(deps: AppDeps) {
  const ctx = routeContext(deps);
  return new Elysia({ name: "driver-tree" })
    .use(treesRoutes(ctx))
    .use(nodesRoutes(ctx))
    .use(outputsRoutes(ctx))
    .use(bindingsRoutes(ctx))
    .use(dataFilesRoutes(ctx));
}
