import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { filesRoutes } from "./routes/files";
import { outputsRoutes } from "./routes/outputs";
import { sessionsRoutes } from "./routes/sessions";
import { routeContext } from "./routes/shared";
import { snapshotsRoutes } from "./routes/snapshots";
import { stepsRoutes } from "./routes/steps";

/* The session controller (api.md §2.7): its route groups under `…/analysis/session`. */
export function analysisSessionController(deps: AppDeps) {
  const ctx = routeContext(deps);
  return new Elysia({ name: "analysis-session" })
    .use(sessionsRoutes(ctx))
    .use(filesRoutes(ctx))
    .use(stepsRoutes(ctx))
    .use(snapshotsRoutes(ctx))
    .use(outputsRoutes(ctx));
}
