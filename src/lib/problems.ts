/*
 * The error catalogue: every problem `code` the service can answer with, its HTTP status, a
 * title that names the problem type (RFC 9457 §3.1.3: the same for every occurrence) and the
 * detail used when a throw site has nothing more specific to say. api.md §1.7 is the contract;
 * `problems.test.ts` keeps this table, the throw sites, api.md and the OpenAPI document in step.
 *
 * `planned` marks codes api.md already reserves for routes that do not exist yet (driver trees,
 * admin settings, notifications, …): they stay here so the catalogue covers api.md's list.
 * `scope` marks codes that never reach an HTTP response as a problem: `step-result` codes are the
 * `error.code` of a stored step result, `agent-tool` codes are what a tool call answers the LLM.
 */

export type ProblemSpec = {
  status: number;
  title: string;
  detail: string;
  planned?: true;
  scope?: "step-result" | "agent-tool";
};

export const PROBLEMS = {
  // 400
  MALFORMED_REQUEST: {
    status: 400,
    title: "Malformed request",
    detail: "The request could not be understood.",
  },

  // 401
  UNAUTHENTICATED: {
    status: 401,
    title: "Authentication required",
    detail: "Authentication is required.",
  },
  TOKEN_INVALID: { status: 401, title: "Invalid token", detail: "The token is invalid." },
  TOKEN_EXPIRED: { status: 401, title: "Token expired", detail: "The token has expired." },
  SESSION_REVOKED: {
    status: 401,
    title: "Session revoked",
    detail: "This session has ended; sign in again.",
  },

  // 403
  INSUFFICIENT_SCOPE: {
    status: 403,
    title: "Insufficient scope",
    detail: "The token lacks the required scope.",
  },
  ACCOUNT_DISABLED: { status: 403, title: "Account disabled", detail: "This account is deactivated." },
  ADMIN_REQUIRED: {
    status: 403,
    title: "Administrator required",
    detail: "This route is for system administrators.",
  },
  ROLE_INSUFFICIENT: {
    status: 403,
    title: "Project role insufficient",
    detail: "Your role in the project does not allow this action.",
  },
  NOT_OWNER: {
    status: 403,
    title: "Not the owner",
    detail: "Only the author, a moderator or a manager may change this item.",
  },
  ROLE_NOT_GRANTABLE: {
    status: 403,
    title: "Role not grantable",
    detail: "Moderators may only manage viewers and members.",
  },
  SELF_ACTION_FORBIDDEN: {
    status: 403,
    title: "Not allowed on yourself",
    detail: "You cannot do this to your own account or membership.",
  },

  // 404, 405
  ROUTE_NOT_FOUND: { status: 404, title: "Route not found", detail: "No route matches this path." },
  METHOD_NOT_ALLOWED: {
    status: 405,
    title: "Method not allowed",
    detail: "This method is not allowed on this path.",
  },
  USER_NOT_FOUND: { status: 404, title: "User not found", detail: "No user with this id." },
  PROJECT_NOT_FOUND: {
    status: 404,
    title: "Project not found",
    detail: "No such project, or you are not a member of it.",
  },
  MEMBER_NOT_FOUND: {
    status: 404,
    title: "Member not found",
    detail: "No such membership in this project.",
  },
  FILE_NOT_FOUND: { status: 404, title: "File not found", detail: "No such file in this project." },
  FILE_CONTENT_MISSING: {
    status: 404,
    title: "File content missing",
    detail: "The file's record exists but its stored content is gone.",
  },
  ISSUE_NOT_FOUND: { status: 404, title: "Issue not found", detail: "No such issue in the catalogue." },
  MASTER_NOT_FOUND: { status: 404, title: "Master not found", detail: "No such master." },
  TEMPLATE_NOT_FOUND: {
    status: 404,
    title: "Template not found",
    detail: "No such saved template visible from this project.",
  },
  SESSION_NOT_FOUND: {
    status: 404,
    title: "Analysis session not found",
    detail: "No such analysis session in this project.",
  },
  ANALYSIS_FILE_NOT_FOUND: {
    status: 404,
    title: "Analysis file not found",
    detail: "No such file in this session.",
  },
  SNAPSHOT_NOT_FOUND: {
    status: 404,
    title: "Snapshot not found",
    detail: "No such snapshot in this session.",
  },
  CHAT_NOT_FOUND: {
    status: 404,
    title: "Chat message not found",
    detail: "No such message in the current snapshot.",
  },
  STEP_NOT_FOUND: {
    status: 404,
    title: "Step not found",
    detail: "No such step in the current snapshot.",
  },
  CHART_NOT_AVAILABLE: {
    status: 404,
    title: "Chart not available",
    detail: "This step has no chart (only summary steps with a chartConfig do).",
  },
  TREE_NOT_FOUND: {
    status: 404,
    title: "Driver tree not found",
    detail: "No such driver tree in this project.",
  },
  NODE_NOT_FOUND: {
    status: 404,
    title: "Node not found",
    detail: "No such node in a tree of this project.",
  },
  POLICY_NOT_FOUND: {
    status: 404,
    title: "Policy not found",
    detail: "No such policy on this node.",
  },
  SHEET_NOT_FOUND: {
    status: 404,
    title: "Sheet not found",
    detail: "No such sheet in this file.",
  },
  COLUMN_NOT_FOUND: {
    status: 404,
    title: "Column not found",
    detail: "No such column in this sheet.",
  },
  FORMULA_NOT_FOUND: {
    status: 404,
    title: "Formula not found",
    detail: "No formula master for this driver type and KPI.",
  },
  NOTIFICATION_NOT_FOUND: {
    status: 404,
    title: "Notification not found",
    detail: "No such notification.",
  },
  ANNOUNCEMENT_NOT_FOUND: {
    status: 404,
    title: "Announcement not found",
    detail: "No such announcement.",
  },
  SETTING_NOT_FOUND: {
    status: 404,
    title: "Setting not found",
    detail: "No such setting.",
  },
  AUTH_SESSION_NOT_FOUND: {
    status: 404,
    title: "Auth session not found",
    detail: "No such auth session.",
  },
  LOG_ENTRY_NOT_FOUND: {
    status: 404,
    title: "Log entry not found",
    detail: "No such activity-log entry.",
  },

  // 409
  IDENTITY_CONFLICT: {
    status: 409,
    title: "Identity conflict",
    detail: "This email belongs to another directory identity.",
  },
  PROJECT_CODE_TAKEN: {
    status: 409,
    title: "Project code taken",
    detail: "The project code is already used.",
  },
  PROJECT_INACTIVE: {
    status: 409,
    title: "Project inactive",
    detail: "The project is deactivated and read-only.",
  },
  ALREADY_MEMBER: { status: 409, title: "Already a member", detail: "The user is already a member." },
  USER_INACTIVE: {
    status: 409,
    title: "User inactive",
    detail: "A deactivated user cannot be added.",
  },
  NAME_TAKEN: { status: 409, title: "Name taken", detail: "The name is already used." },
  MASTER_IN_USE: {
    status: 409,
    title: "Master in use",
    detail: "The master is still referenced; archive it instead.",
  },
  MASTER_ARCHIVED: {
    status: 409,
    title: "Master archived",
    detail: "This catalogue issue is archived.",
  },
  FILE_IN_USE: {
    status: 409,
    title: "File in use",
    detail: "The file is used by analysis sessions or driver trees.",
  },
  ANALYSIS_FILE_DUPLICATE: {
    status: 409,
    title: "File already registered",
    detail: "This project file is already registered to the session.",
  },
  ANALYSIS_FILE_IN_USE: {
    status: 409,
    title: "Analysis file in use",
    detail: "This file is the session's input; select another first.",
  },
  CHAT_IN_PROGRESS: {
    status: 409,
    title: "Chat in progress",
    detail: "A chat turn is running on this session.",
  },
  SESSION_ARCHIVED: {
    status: 409,
    title: "Session archived",
    detail: "The session is archived; reopen it first.",
  },
  SHEET_ALREADY_SELECTED: {
    status: 409,
    title: "Sheet already selected",
    detail: "The sheet is already selected.",
  },
  SHEET_NOT_SELECTED: {
    status: 409,
    title: "Sheet not selected",
    detail: "The sheet is not selected.",
  },
  SESSION_ALREADY_ENDED: {
    status: 409,
    title: "Auth session already ended",
    detail: "The auth session has already ended.",
  },

  // 408
  REQUEST_TIMEOUT: {
    status: 408,
    title: "Request timeout",
    detail: "The request was not received completely within the time limit.",
  },

  // 413, 415, 416
  FILE_TOO_LARGE: {
    status: 413,
    title: "File too large",
    detail: "The upload exceeds the size limit.",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    title: "Payload too large",
    detail: "The request body exceeds its size limit.",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: "Unsupported media type",
    detail: "The request Content-Type is not accepted here.",
  },
  UNSUPPORTED_FILE_TYPE: {
    status: 415,
    title: "Unsupported file type",
    detail: "The file type is not allowed, or its content does not match its extension.",
  },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    title: "Range not satisfiable",
    detail: "The requested range cannot be served.",
  },

  // 422
  VALIDATION_FAILED: {
    status: 422,
    title: "Validation failed",
    detail: "The request did not pass validation.",
  },
  INVALID_DATE_RANGE: {
    status: 422,
    title: "Invalid date range",
    detail: "The end date must not be before the start date.",
  },
  LAST_PROJECT_MANAGER: {
    status: 422,
    title: "Last project manager",
    detail: "A project must keep at least one project manager.",
  },
  LAST_SYSTEM_ADMIN: {
    status: 422,
    title: "Last system administrator",
    detail: "The last active system administrator must stay one.",
  },
  VERSION_NOT_IN_CHAIN: {
    status: 422,
    title: "Version not in chain",
    detail: "The version does not belong to this file.",
  },
  FILE_NOT_ANALYSABLE: {
    status: 422,
    title: "File not analysable",
    detail: "Files of this kind cannot be analysed.",
  },
  NO_PARSEABLE_SHEET: {
    status: 422,
    title: "No parseable sheet",
    detail: "No sheet of the workbook could be parsed.",
  },
  UNKNOWN_SHEET: { status: 422, title: "Unknown sheet", detail: "The sheet is not in the workbook." },
  UNKNOWN_AXIS: { status: 422, title: "Unknown axis", detail: "The axis is not in the sheet." },
  SHEET_PARSE_ERROR: {
    status: 422,
    title: "Sheet parse error",
    detail: "The sheet's layout is invalid.",
  },
  ANALYSIS_LIMIT_EXCEEDED: {
    status: 422,
    title: "Analysis limit exceeded",
    detail: "An analysis size limit is exceeded.",
  },
  INPUT_FILE_REQUIRED: {
    status: 422,
    title: "Input file required",
    detail: "Select an input file for the session first.",
  },
  ANALYSIS_FILE_NOT_CONFIGURED: {
    status: 422,
    title: "Analysis file not configured",
    detail: "Choose the file's sheet and axes before selecting it.",
  },
  STEP_CONFIG_INVALID: {
    status: 422,
    title: "Step configuration invalid",
    detail: "The step's configuration is invalid.",
  },
  STEP_REFERENCE_INVALID: {
    status: 422,
    title: "Step reference invalid",
    detail: "The step's input is not an earlier dataset step.",
  },
  STEP_NOT_DELETABLE: {
    status: 422,
    title: "Step not deletable",
    detail: "Other steps depend on this step.",
  },
  SNAPSHOT_NOT_DELETABLE: {
    status: 422,
    title: "Snapshot not deletable",
    detail: "Snapshot 0 and the current snapshot cannot be deleted.",
  },
  CHAT_NOT_DELETABLE: {
    status: 422,
    title: "Chat message not deletable",
    detail: "The recipe (system message) cannot be deleted.",
  },
  TEMPLATE_NOT_APPLICABLE: {
    status: 422,
    title: "Template not applicable",
    detail: "The template's steps do not fit this session's input.",
  },
  STEP_BLOCKED: {
    status: 422,
    title: "Step blocked",
    detail: "The step depends on a step without a result.",
    scope: "step-result",
  },
  STEP_NOT_READY: {
    status: 422,
    title: "Step not ready",
    detail: "The step has no result.",
    scope: "agent-tool",
  },
  STEP_TYPE_MISMATCH: {
    status: 422,
    title: "Step type mismatch",
    detail: "The tool does not fit this step's type.",
    scope: "agent-tool",
  },
  TOOL_TIMEOUT: {
    status: 422,
    title: "Tool timeout",
    detail: "The tool call ran past its time limit; nothing was changed.",
    scope: "agent-tool",
  },
  BUDGET_EXHAUSTED: {
    status: 422,
    title: "Tool budget exhausted",
    detail: "The turn's tool-call budget is spent.",
    scope: "agent-tool",
  },
  UNKNOWN_TOOL: {
    status: 422,
    title: "Unknown tool",
    detail: "There is no tool with this name.",
    scope: "agent-tool",
  },
  FORMULA_INVALID: {
    status: 422,
    title: "Formula invalid",
    detail: "The formula line cannot be parsed.",
  },
  TREE_CYCLE: {
    status: 422,
    title: "Tree cycle",
    detail: "The child list would create a cycle.",
  },
  NODE_NOT_IN_TREE: {
    status: 422,
    title: "Node not in tree",
    detail: "A referenced node belongs to another tree.",
  },
  OPERATOR_REQUIRED: {
    status: 422,
    title: "Operator required",
    detail: "Children need an operator on a node without a relationship.",
  },
  ROOT_NODE_PROTECTED: {
    status: 422,
    title: "Root node protected",
    detail: "The root node cannot be deleted.",
  },
  BINDING_INVALID: {
    status: 422,
    title: "Binding invalid",
    detail: "The binding does not fit this node or sheet.",
  },
  SETTING_READ_ONLY: {
    status: 422,
    title: "Setting read-only",
    detail: "This setting cannot be edited.",
  },
  SETTING_VALUE_INVALID: {
    status: 422,
    title: "Setting value invalid",
    detail: "The value does not fit the setting's type or range.",
  },
  CSV_INVALID: {
    status: 422,
    title: "CSV invalid",
    detail: "The CSV has a wrong header, encoding or row shape.",
  },
  BULK_LIMIT_EXCEEDED: {
    status: 422,
    title: "Bulk limit exceeded",
    detail: "More items than the bulk limit.",
  },
  RETENTION_TOO_SHORT: {
    status: 422,
    title: "Retention too short",
    detail: "The retention is below the minimum for this target.",
  },

  // 431
  HEADERS_TOO_LARGE: {
    status: 431,
    title: "Request headers too large",
    detail: "The request header fields are too large.",
  },

  // 429
  RATE_LIMITED: { status: 429, title: "Rate limited", detail: "Too many requests; retry later." },
  LLM_QUOTA_EXCEEDED: {
    status: 429,
    title: "Chat quota exceeded",
    detail: "The hourly chat turn quota is spent.",
  },

  // 5xx
  INTERNAL_ERROR: { status: 500, title: "Internal error", detail: "An internal error occurred." },
  MAINTENANCE_MODE: {
    status: 503,
    title: "Maintenance mode",
    detail: "The service is under maintenance; retry later.",
  },
  NOT_READY: {
    status: 503,
    title: "Not ready",
    detail: "The database did not answer its readiness probe.",
  },
  DEPENDENCY_UNAVAILABLE: {
    status: 503,
    title: "Dependency unavailable",
    detail: "A backing service is unavailable. Try again shortly.",
  },
  CHART_RENDERER_UNAVAILABLE: {
    status: 503,
    title: "Chart renderer unavailable",
    detail: "Charts cannot be rendered on this server.",
  },
  LLM_NOT_CONFIGURED: {
    status: 503,
    title: "LLM not configured",
    detail: "No LLM provider is configured on this server.",
  },
  LLM_UNAVAILABLE: { status: 503, title: "LLM unavailable", detail: "The LLM provider failed." },
  INSUFFICIENT_STORAGE: {
    status: 507,
    title: "Insufficient storage",
    detail: "The server has no room to store this upload. Try again later.",
  },
  LLM_TIMEOUT: {
    status: 504,
    title: "LLM timeout",
    detail: "The chat turn did not finish within its time limit.",
  },
} as const satisfies Record<string, ProblemSpec>;

export type ProblemCode = keyof typeof PROBLEMS;

export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];

export const isProblemCode = (code: unknown): code is ProblemCode =>
  typeof code === "string" && Object.hasOwn(PROBLEMS, code);

/** The catalogue entry of a code; codes outside it (never expected) get a generic one. */
export function problemSpec(code: string, status = 500): ProblemSpec {
  return isProblemCode(code) ? PROBLEMS[code] : { status, title: "Error", detail: "An error occurred." };
}
