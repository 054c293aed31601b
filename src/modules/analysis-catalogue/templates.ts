import type { Database, DbOrTx } from "@/db/client";
import { isUniqueViolation } from "@/db/pg-errors";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { page } from "@/lib/schema";
import type { AnalysisCaches } from "@/modules/analysis-session/caches";
import type { SessionDetail } from "@/modules/analysis-session/model";
import { lockSession, type StepRow } from "@/modules/analysis-session/repository";
import { getSessionDetail, loadSession, writableSession } from "@/modules/analysis-session/service";
import {
  type AppendedStep,
  appendSnapshotTx,
  currentSteps,
  insertSessionTx,
  replayWithAppended,
} from "@/modules/analysis-session/template-apply";
import type { Caller } from "@/modules/auth/service";
import { assertOwnerOrModerator, type ProjectAccess, ROLE_RANK } from "@/modules/project/access";
import type {
  SavedTemplate,
  SavedTemplateApply,
  SavedTemplateCreate,
  SavedTemplatePatch,
  SavedTemplateQuery,
  TemplateStep,
} from "./model";
import {
  countTemplateUse,
  deleteTemplateRow,
  findVisibleTemplate,
  findVisibleTemplateView,
  insertTemplate,
  listVisibleTemplates,
  type TemplateRow,
  type TemplateView,
  updateTemplateRow,
} from "./queries";
import { getIssue } from "./service";

/*
 * Saved analysis templates (api.md §2.6, analysis.md §6.5). A template belongs to one project and
 * is visible there; a public one is visible from every project but changed only in its own. A
 * `step` template carries the source's current step list and is appended to a target session's
 * pipeline under fresh step keys, all-or-nothing.
 */

export type TemplateDeps = { db: Database; actor: AuditActor; caches: AnalysisCaches };
type StoredConfig = {
  customSystemPrompt: string | null;
  initialMessage: string | null;
  steps: TemplateStep[] | null;
};

const MAX_STEPS = 50;

const templateNotFound = () => problem("TEMPLATE_NOT_FOUND");
const nameTaken = () =>
  problem("NAME_TAKEN", { detail: "This project already has a template with that name." });
const managerNeeded = () =>
  problem("ROLE_INSUFFICIENT", { detail: "Only a project manager can make a template public or private." });
const bodyMismatch = (path: string, message: string) =>
  problem("VALIDATION_FAILED", {
    detail: "The body does not fit this template's type.",
    errors: [{ path, message }],
  });

async function mapNameTaken<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken();
    throw error;
  }
}

const isManager = (access: ProjectAccess) => ROLE_RANK[access.role] >= ROLE_RANK.project_manager;

function canEdit(access: ProjectAccess, callerId: string, t: TemplateRow): boolean {
  if (t.projectId !== access.project.id) return false;
  const rank = ROLE_RANK[access.role];
  if (rank < ROLE_RANK.member) return false;
  return rank >= ROLE_RANK.project_moderator || (t.createdBy !== null && t.createdBy === callerId);
}

function toSaved(v: TemplateView, access: ProjectAccess, callerId: string): SavedTemplate {
  const t = v.t;
  const c = (t.templateConfig ?? {}) as Partial<StoredConfig>;
  return {
    id: t.id,
    projectId: t.projectId,
    name: t.name,
    description: t.description,
    templateType: t.templateType as SavedTemplate["templateType"],
    isPublic: t.isPublic,
    issueId: t.issueId,
    issueName: v.issueName,
    sourceSessionId: t.sourceSessionId,
    config: {
      customSystemPrompt: c.customSystemPrompt ?? null,
      initialMessage: c.initialMessage ?? null,
      steps: c.steps ?? null,
    },
    usageCount: t.usageCount,
    lastUsedAt: t.lastUsedAt ? t.lastUsedAt.toISOString() : null,
    createdBy: v.createdBy,
    editable: canEdit(access, callerId, t),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

async function readTemplate(db: DbOrTx, access: ProjectAccess, callerId: string, id: string) {
  const row = await findVisibleTemplateView(db, access.project.id, id);
  if (!row) throw templateNotFound();
  return toSaved(row, access, callerId);
}

/** This project's templates plus, unless `includePublic=false`, public ones of any project. */
export async function listTemplates(
  db: DbOrTx,
  access: ProjectAccess,
  caller: Caller,
  q: SavedTemplateQuery,
) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listVisibleTemplates(db, access.project.id, q, skip, limit);
  return page(
    rows.map((r) => toSaved(r, access, caller.user.id)),
    total,
    skip,
    limit,
  );
}

export function getTemplate(db: DbOrTx, access: ProjectAccess, caller: Caller, id: string) {
  return readTemplate(db, access, caller.user.id, id);
}

const toTemplateStep = (s: StepRow): TemplateStep => ({
  stepKey: s.stepKey,
  name: s.name,
  type: s.type as TemplateStep["type"],
  input: s.input,
  config: s.config ?? null,
});

/** `session` keeps the issue and the prompts; `step` adds the source's current step list. */
export async function createTemplate(
  deps: TemplateDeps,
  caller: Caller,
  access: ProjectAccess,
  body: SavedTemplateCreate,
): Promise<SavedTemplate> {
  const projectId = access.project.id;
  const isPublic = body.isPublic ?? false;
  if (isPublic && !isManager(access)) throw managerNeeded();
  const name = body.name.trim();
  if (!name)
    throw problem("VALIDATION_FAILED", {
      detail: "The name is empty.",
      errors: [{ path: "/body/name", message: "must contain a non-blank character" }],
    });
  const templateType = body.templateType ?? "session";
  const source = await loadSession(deps.db, projectId, body.sourceSessionId);
  const config: StoredConfig = {
    customSystemPrompt: source.customSystemPrompt,
    initialMessage: source.initialMessage,
    steps: templateType === "step" ? (await currentSteps(deps.db, source)).map(toTemplateStep) : null,
  };
  const id = newId();
  await mapNameTaken(() =>
    deps.db.transaction(async (tx) => {
      await insertTemplate(tx, {
        id,
        projectId,
        issueId: source.issueId,
        name,
        description: body.description?.trim() || null,
        templateType,
        templateConfig: config,
        sourceSessionId: source.id,
        isPublic,
        createdBy: caller.user.id,
      });
      await writeAudit(tx, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "CREATE",
        resourceType: "analysis_template",
        resourceId: id,
        projectId,
        newValue: {
          name,
          templateType,
          isPublic,
          sourceSessionId: source.id,
          stepCount: config.steps?.length ?? 0,
        },
      });
    }),
  );
  return readTemplate(deps.db, access, caller.user.id, id);
}

/* The template locked for a change in its own project: 404 when invisible, NOT_OWNER otherwise. */
async function lockEditable(tx: DbOrTx, access: ProjectAccess, caller: Caller, id: string) {
  const row = await findVisibleTemplate(tx, access.project.id, id, { lock: true });
  if (!row) throw templateNotFound();
  if (row.projectId !== access.project.id) {
    throw problem("NOT_OWNER", {
      detail: "A public template can only be changed in the project that owns it.",
    });
  }
  assertOwnerOrModerator(access, caller.user.id, row.createdBy);
  return row;
}

export async function updateTemplate(
  deps: TemplateDeps,
  caller: Caller,
  access: ProjectAccess,
  id: string,
  body: SavedTemplatePatch,
): Promise<SavedTemplate> {
  const name = body.name?.trim();
  if (body.name !== undefined && !name) {
    throw problem("VALIDATION_FAILED", {
      detail: "The name is empty.",
      errors: [{ path: "/body/name", message: "must contain a non-blank character" }],
    });
  }
  await mapNameTaken(() =>
    deps.db.transaction(async (tx) => {
      const before = await lockEditable(tx, access, caller, id);
      if (body.isPublic !== undefined && body.isPublic !== before.isPublic && !isManager(access)) {
        throw managerNeeded();
      }
      const after = await updateTemplateRow(tx, id, {
        name: name ?? undefined,
        description: body.description === undefined ? undefined : body.description?.trim() || null,
        isPublic: body.isPublic,
      });
      await writeAudit(tx, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "UPDATE",
        resourceType: "analysis_template",
        resourceId: id,
        projectId: access.project.id,
        oldValue: { name: before.name, description: before.description, isPublic: before.isPublic },
        newValue: { name: after.name, description: after.description, isPublic: after.isPublic },
      });
    }),
  );
  return readTemplate(deps.db, access, caller.user.id, id);
}

export async function deleteTemplate(
  deps: TemplateDeps,
  caller: Caller,
  access: ProjectAccess,
  id: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const before = await lockEditable(tx, access, caller, id);
    await deleteTemplateRow(tx, id);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "analysis_template",
      resourceId: id,
      projectId: access.project.id,
      oldValue: { name: before.name, templateType: before.templateType, isPublic: before.isPublic },
    });
  });
}

/* Usage counter and audit row of one apply; a template deleted meanwhile rolls the apply back. */
async function recordUse(
  tx: DbOrTx,
  actor: AuditActor,
  projectId: string,
  template: TemplateRow,
  target: Record<string, unknown>,
) {
  const usageCount = await countTemplateUse(tx, template.id);
  if (usageCount === null) throw templateNotFound();
  await writeAudit(tx, actor, {
    eventType: "DATA_CHANGE",
    action: "APPLY",
    resourceType: "analysis_template",
    resourceId: template.id,
    projectId,
    newValue: { templateType: template.templateType, usageCount, ...target },
    metadata: template.projectId === projectId ? null : { templateProjectId: template.projectId },
  });
}

/** Replaces every stepKey of the template found anywhere in a config (tableFilter.sourceStepKey, …). */
function remapKeys(value: unknown, keys: Map<string, string>): unknown {
  if (typeof value === "string") return keys.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => remapKeys(v, keys));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, remapKeys(v, keys)]));
  }
  return value;
}

/* Step names are unique within a snapshot (analysis.md §3.1): a clash gets " (2)", " (3)", … */
function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let i = 2; taken.has(candidate.toLowerCase()); i++) {
    const suffix = ` (${i})`;
    candidate = `${name.slice(0, 255 - suffix.length)}${suffix}`;
  }
  taken.add(candidate.toLowerCase());
  return candidate;
}

type FailingStep = {
  index: number;
  stepKey: string;
  name: string;
  type: string;
  status: string;
  code: string;
  detail: string;
  errors: { path: string; message: string }[];
  [member: string]: unknown;
};

async function applyStepTemplate(
  deps: TemplateDeps,
  caller: Caller,
  access: ProjectAccess,
  template: TemplateRow,
  targetSessionId: string,
): Promise<SessionDetail> {
  const projectId = access.project.id;
  const session = await writableSession(deps.db, access, caller, targetSessionId);
  if (!session.inputFileId) {
    throw problem("INPUT_FILE_REQUIRED", { detail: "Select an input file for the target session first." });
  }
  const stored = ((template.templateConfig as Partial<StoredConfig>).steps ?? []) as TemplateStep[];
  const existing = await currentSteps(deps.db, session);
  if (existing.length + stored.length > MAX_STEPS) {
    throw problem("VALIDATION_FAILED", {
      detail: `A snapshot holds at most ${MAX_STEPS} steps.`,
      errors: [{ path: "/body/targetSessionId", message: `the steps would exceed ${MAX_STEPS}` }],
      extensions: { limit: MAX_STEPS },
    });
  }
  const keys = new Map(stored.map((s) => [s.stepKey, newId()]));
  const names = new Set(existing.map((s) => s.name.toLowerCase()));
  const appended: AppendedStep[] = stored.map((s) => ({
    stepKey: keys.get(s.stepKey)!,
    name: uniqueName(s.name, names),
    type: s.type,
    input: keys.get(s.input) ?? s.input,
    config: s.config === null || s.config === undefined ? null : remapKeys(s.config, keys),
  }));
  const results = await replayWithAppended(deps.db, session, existing, appended, deps.caches);
  // Unconfigured template steps stay unconfigured; a step blocked only by one of them is not a failure.
  const failing: FailingStep[] = [];
  const failedKeys = new Set<string>();
  results.forEach((r, index) => {
    const blockedBy = (r.error?.dependency as { stepKey?: string } | undefined)?.stepKey;
    const fails =
      r.status === "invalid" || (r.status === "blocked" && !!blockedBy && failedKeys.has(blockedBy));
    if (!fails) return;
    failedKeys.add(r.stepKey);
    // The step's own problem members (availableSubjects, suggestions, …) travel with it.
    const { status: _httpStatus, ...problem } = r.error ?? { status: 422 };
    failing.push({
      index,
      stepKey: stored[index].stepKey,
      name: stored[index].name,
      type: stored[index].type,
      ...problem,
      status: r.status,
      code: r.error?.code ?? "STEP_CONFIG_INVALID",
      detail: r.error?.detail ?? r.status,
      errors: r.error?.errors ?? [],
    });
  });
  if (failing.length > 0) {
    throw problem("TEMPLATE_NOT_APPLICABLE", {
      detail: `The template's steps do not fit this session's input: ${failing.map((f) => `${f.name} (${f.detail})`).join("; ")}`,
      errors: failing.flatMap((f) =>
        f.errors.length > 0
          ? f.errors.map((e) => ({
              path: `/steps/${f.index}${e.path}`,
              message: `${f.name}: ${e.message}`,
            }))
          : [{ path: `/steps/${f.index}`, message: `${f.name}: ${f.detail}` }],
      ),
      extensions: { failingSteps: failing },
    });
  }
  await deps.db.transaction(async (tx) => {
    // The pipeline was checked against this snapshot; a turn or edit that moved it in between wins.
    const locked = await lockSession(tx, session.id);
    const leaseHeld = locked.chatLeaseUntil && locked.chatLeaseUntil.getTime() > Date.now();
    if (leaseHeld || locked.currentSnapshotId !== session.currentSnapshotId) {
      throw problem("CHAT_IN_PROGRESS", { detail: "The session changed while the template was applied." });
    }
    const { order } = await appendSnapshotTx(tx, deps.actor, {
      session: locked,
      projectId,
      createdBy: caller.user.id,
      appended,
      metadata: { templateId: template.id },
    });
    await recordUse(tx, deps.actor, projectId, template, { targetSessionId: session.id, snapshot: order });
  });
  return getSessionDetail(deps.db, projectId, session.id, deps.caches);
}

/**
 * `session`: a new session as `POST …/session` makes it, snapshot 0 `trigger: template` (201).
 * `step`: the template's steps appended to the target session's pipeline as a new snapshot (200).
 */
export async function applyTemplate(
  deps: TemplateDeps,
  caller: Caller,
  access: ProjectAccess,
  id: string,
  body: SavedTemplateApply,
): Promise<{ status: 200 | 201; detail: SessionDetail }> {
  const projectId = access.project.id;
  const template = await findVisibleTemplate(deps.db, projectId, id);
  if (!template) throw templateNotFound();
  if (template.templateType === "step") {
    if (body.name !== undefined)
      throw bodyMismatch("/body/name", "a step template takes only targetSessionId");
    if (!body.targetSessionId) {
      throw bodyMismatch("/body/targetSessionId", "required to apply a step template");
    }
    return {
      status: 200,
      detail: await applyStepTemplate(deps, caller, access, template, body.targetSessionId),
    };
  }
  if (body.targetSessionId !== undefined) {
    throw bodyMismatch("/body/targetSessionId", "a session template creates a new session; send only name");
  }
  const { detail: issue, isActive } = await getIssue(deps.db, template.issueId, { includeArchived: true });
  if (!isActive) throw problem("MASTER_ARCHIVED", { detail: "The template's catalogue issue is archived." });
  const config = template.templateConfig as Partial<StoredConfig>;
  const sessionId = await deps.db.transaction(async (tx) => {
    const created = await insertSessionTx(tx, deps.actor, {
      projectId,
      creatorId: caller.user.id,
      issue: {
        id: issue.id,
        name: issue.name,
        agentPrompt: issue.agentPrompt,
        initialMessage: issue.initialMessage,
      },
      name: body.name,
      customSystemPrompt: config.customSystemPrompt ?? null,
      initialMessage: config.initialMessage ?? null,
      trigger: "template",
      metadata: { templateId: template.id },
    });
    await recordUse(tx, deps.actor, projectId, template, { sessionId: created });
    return created;
  });
  return { status: 201, detail: await getSessionDetail(deps.db, projectId, sessionId, deps.caches) };
}
