import { created, noContent } from "@/http/status";
import { NoContent } from "@/lib/schema";
import { requireProjectRole } from "@/plugins/project-access";
import { SessionParams, StepBody, StepParams, StepPatch, StepWithResult } from "../model";
import * as steps from "../steps";
import {
  type RouteContext,
  routeGroup,
  STEP_WRITE_PROBLEMS,
  sessionWrite,
  TAGS,
  WRITE_PROBLEMS,
} from "./shared";

/* Manual step edits on the current snapshot. */
export function stepsRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "analysis-session-steps")
    .post(
      "/:sessionId/step",
      async (r) => created(r.set, await steps.createStep(...sessionWrite(ctx, r), r.body)),
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
      (r) => steps.updateStep(...sessionWrite(ctx, r), r.params.stepId, r.body),
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
      async (r) => noContent(r.set, await steps.deleteStep(...sessionWrite(ctx, r), r.params.stepId)),
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
