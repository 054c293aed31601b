import { Elysia } from "elysia";
import { NoContent } from "@/lib/schema";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import { SessionParams, StepBody, StepParams, StepPatch, StepWithResult } from "../model";
import * as steps from "../steps";
import { ROUTE_PREFIX, type RouteContext, STEP_WRITE_PROBLEMS, TAGS, WRITE_PROBLEMS } from "./shared";

/* Manual step edits on the current snapshot. */
export function stepsRoutes(ctx: RouteContext) {
  return new Elysia({ name: "analysis-session-steps", prefix: ROUTE_PREFIX })
    .use(projectAccessPlugin(ctx.deps))
    .post(
      "/:sessionId/step",
      async ({ caller, auth, access, params, body, set }) => {
        const step = await steps.createStep(ctx.sessionDeps(auth), caller, access, params.sessionId, body);
        set.status = 201;
        return step;
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: StepBody,
        response: { 201: StepWithResult },
        detail: {
          tags: TAGS,
          operationId: "session.step.create",
          "x-problem-codes": [...STEP_WRITE_PROBLEMS],
          description:
            "Appends a filter, aggregate, transform or summary step to the current snapshot and runs it.",
          summary: "Append a step to the current snapshot; answers with its result",
        },
      },
    )
    .put(
      "/:sessionId/step/:stepId",
      ({ caller, auth, access, params, body }) =>
        steps.updateStep(ctx.sessionDeps(auth), caller, access, params.sessionId, params.stepId, body),
      {
        project: requireProjectRole("member"),
        params: StepParams,
        body: StepPatch,
        response: StepWithResult,
        detail: {
          tags: TAGS,
          operationId: "session.step.update",
          description: "Edits a step in place (config: null resets it); the steps after it are recomputed.",
          summary: "Edit a step in place (config: null resets it); later steps are recomputed",
          "x-problem-codes": [...STEP_WRITE_PROBLEMS, "STEP_NOT_FOUND"],
        },
      },
    )
    .delete(
      "/:sessionId/step/:stepId",
      async ({ caller, auth, access, params, set }) => {
        await steps.deleteStep(ctx.sessionDeps(auth), caller, access, params.sessionId, params.stepId);
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: StepParams,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "session.step.delete",
          "x-problem-codes": [
            ...WRITE_PROBLEMS,
            "INPUT_FILE_REQUIRED",
            "STEP_NOT_FOUND",
            "STEP_NOT_DELETABLE",
          ],
          description: "Deletes a step of the current snapshot that no other step uses as input.",
          summary: "Delete a step that no other step depends on",
        },
      },
    );
}
