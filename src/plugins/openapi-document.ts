import { type ElysiaOpenAPIConfig, type OpenAPIVersion, openapi } from "@elysiajs/openapi";
import { getPossiblePath, unwrapSchema } from "@elysiajs/openapi/openapi";
import { Elysia, type InputSchema } from "elysia";
import { acceptsMultipart } from "@/plugins/body-limit";
import { addProblemResponses } from "@/plugins/openapi-errors";

export type DocumentedRoute = {
  method: string;
  path: string;
  hooks: { body?: unknown; query?: unknown; params?: unknown; detail?: unknown };
};
type Json = Record<string, any>;
type Operation = {
  operationId?: string;
  tags?: string[];
  parameters?: Json[];
  requestBody?: { content?: Record<string, Json> };
  responses?: Record<string, Json>;
};
type Document = {
  openapi?: string;
  tags?: { name: string; description: string }[];
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Json> } & Json;
};

/**
 * The one list of operation tags, in the order the docs show them. Controllers tag their routes
 * with these names; a test checks that every tag used is listed here.
 */
export const API_TAGS = [
  { name: "system", description: "Service info, liveness, readiness and Prometheus metrics (no auth)." },
  {
    name: "user_account",
    description: "The caller's account and settings; user administration for system admins.",
  },
  {
    name: "project",
    description: "Projects. Roles per project: viewer (V), member (M), moderator (Mod), manager (PM).",
  },
  { name: "member", description: "Project membership and roles." },
  { name: "file", description: "Versioned project files: upload, download, versions, restore, compare." },
  {
    name: "analysis",
    description:
      "Analysis catalogue, saved templates, analysis sessions (files, steps, snapshots, charts, export) and the agent chat.",
  },
  {
    name: "driver-tree",
    description:
      "KPI driver trees: decomposition from formulas, nodes and relationships, policies (施策) and evaluation with ROI, category and formula masters, templates.",
  },
  { name: "dashboard", description: "Figures, recent activity and charts over the caller's projects." },
  { name: "search", description: "Search across projects, analysis sessions, files and driver trees." },
  {
    name: "notifications",
    description:
      "The caller's notifications (list, read, delete, live Server-Sent Events stream) and current system announcements.",
  },
  {
    name: "admin",
    description:
      "Analysis master data (validations, issues, axes, dummy data) and driver-tree masters (categories, formulas); system admins.",
  },
] as const;
export type ApiTag = (typeof API_TAGS)[number]["name"];

/*
 * The openapi plugin only derives request media types from string parse hints; for a function
 * parser it leaves `requestBody.content` empty. The app's global parser (src/app.ts) is a function,
 * so every body-taking route would be documented without a schema. The media types it accepts are
 * known: JSON everywhere, multipart where the route documents it (`acceptsMultipart`). This fills them
 * in from each route's body schema, converted exactly as the plugin converts it.
 */
export function fillRequestBodies(doc: Document, routes: readonly DocumentedRoute[]): Document {
  const version = (doc.openapi ?? "3.1.2") as OpenAPIVersion;
  for (const route of routes) {
    const method = route.method.toLowerCase();
    if (!route.hooks?.body || method === "get" || method === "head") continue;
    const schema = unwrapSchema(route.hooks.body as InputSchema["body"], undefined, "input", version);
    if (!schema) continue;
    for (const path of getPossiblePath(route.path)) {
      const operation = doc.paths?.[path.replace(/:([^/]+)/g, "{$1}")]?.[method];
      const body = operation?.requestBody;
      if (!body || Object.keys(body.content ?? {}).length > 0) continue;
      body.content = { "application/json": { schema } };
      if (acceptsMultipart(route)) body.content["multipart/form-data"] = { schema };
    }
  }
  return doc;
}

const isObject = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);

/*
 * The plugin rewrites a union of literals as a bare `{ type, enum }` and drops its description,
 * so a `sort` or `format` parameter loses the text its schema carries. Read it from the route.
 */
export function describeParameters(doc: Document, routes: readonly DocumentedRoute[]): Document {
  for (const route of routes) {
    const method = route.method.toLowerCase();
    const sources = { query: route.hooks?.query, path: route.hooks?.params };
    for (const path of getPossiblePath(route.path)) {
      const operation = doc.paths?.[path.replace(/:([^/]+)/g, "{$1}")]?.[method];
      for (const param of operation?.parameters ?? []) {
        const schema = sources[param.in as keyof typeof sources];
        const description = isObject(schema) ? schema.properties?.[param.name]?.description : undefined;
        if (!param.description && typeof description === "string") param.description = description;
      }
    }
  }
  return doc;
}

/*
 * Elysia's `t.Integer`/`t.Numeric` are `anyOf: [string (format integer|numeric), integer|number]`
 * so that query strings coerce; generators turn that into `string | number`. On the wire a query
 * value is a string either way, so the document states the number it must spell.
 */
function collapseCoercedNumber(node: Json): Json {
  const anyOf = node.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return node;
  const text = anyOf.find((s) => s?.type === "string" && (s.format === "integer" || s.format === "numeric"));
  const num = anyOf.find((s) => s?.type === "integer" || s?.type === "number");
  if (!text || !num) return node;
  const { anyOf: _, ...outer } = node;
  return { ...outer, ...num };
}

/*
 * The plugin folds `anyOf: [X, null]` into `type: [T, "null"]` only for schemas it converts
 * itself, not for raw schemas in `detail.responses`; doing it everywhere keeps one spelling, so a
 * named schema reached both ways compares equal.
 */
function foldNull(node: Json): Json {
  const anyOf = node.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return node;
  const other = anyOf.find((s) => s?.type !== "null");
  if (!anyOf.some((s) => s?.type === "null") || !isObject(other) || typeof other.type !== "string")
    return node;
  const { anyOf: _, ...outer } = node;
  return { ...outer, ...other, type: [other.type, "null"] };
}

/* Likewise for unions of string literals, which the plugin turns into `enum` only for its own. */
function foldEnum(node: Json): Json {
  const anyOf = node.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length === 0) return node;
  if (!anyOf.every((s) => isObject(s) && s.type === "string" && typeof s.const === "string")) return node;
  const { anyOf: _, ...outer } = node;
  return { ...outer, type: "string", enum: anyOf.map((s) => s.const) };
}

/** Child schemas of a JSON Schema node, by keyword shape (object of schemas, array, single). */
const MAP_KEYS = ["properties", "patternProperties", "$defs"];
const LIST_KEYS = ["anyOf", "oneOf", "allOf", "prefixItems"];
const ONE_KEYS = ["items", "additionalProperties", "not", "contains"];

function mapSchema(node: unknown, visit: (n: Json) => Json): unknown {
  if (Array.isArray(node)) return node.map((n) => mapSchema(n, visit));
  if (!isObject(node)) return node;
  const out: Json = { ...node };
  for (const key of MAP_KEYS)
    if (isObject(out[key]))
      out[key] = Object.fromEntries(Object.entries(out[key]).map(([k, v]) => [k, mapSchema(v, visit)]));
  for (const key of LIST_KEYS)
    if (Array.isArray(out[key])) out[key] = out[key].map((v) => mapSchema(v, visit));
  for (const key of ONE_KEYS) if (isObject(out[key])) out[key] = mapSchema(out[key], visit);
  return visit(out);
}

/** JSON with sorted keys, to compare two schemas claiming the same name. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, val) =>
    isObject(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : 1))) : val,
  );

const withoutClosed = (v: Json): Json => {
  const { additionalProperties, ...rest } = v;
  return additionalProperties === false ? rest : v;
};

/*
 * Hoists every schema with a `title` into `components.schemas[title]` and leaves a `$ref` in its
 * place (children first, so components refer to each other). The plugin folds `Union([X, Null])`
 * into X with `type: [T, "null"]`; that becomes `anyOf: [$ref X, null]` so X itself stays
 * non-null. Two different shapes under one name are a programming error and fail loudly.
 */
function hoister(schemas: Record<string, Json>) {
  return (node: Json): Json => {
    const { title, ...rest } = node;
    if (typeof title !== "string") return node;
    let nullable = false;
    if (Array.isArray(rest.type) && rest.type.includes("null")) {
      const types = rest.type.filter((t: string) => t !== "null");
      nullable = true;
      rest.type = types.length === 1 ? types[0] : types;
    }
    const existing = schemas[title];
    // Elysia adds `additionalProperties: false` to a route's response schema object when it
    // compiles the route (first request), so after traffic two calls of one builder (`Page(x)`)
    // can differ in that key alone; that is the same shape, not two.
    if (existing && canonical(withoutClosed(existing)) !== canonical(withoutClosed(rest)))
      throw new Error(`OpenAPI: two different schemas are titled "${title}"; give one another title`);
    schemas[title] = rest;
    const ref = { $ref: `#/components/schemas/${title}` };
    return nullable ? { anyOf: [ref, { type: "null" }] } : ref;
  };
}

const refine = (schema: unknown, hoist: (n: Json) => Json) =>
  mapSchema(schema, (n) => hoist(foldNull(foldEnum(collapseCoercedNumber(n)))));

/**
 * Shapes the plugin's document for client generators: named component schemas, integers as
 * `integer`, parameter descriptions where generators read them, bodiless 204s.
 */
export function refineDocument(doc: Document): Document {
  doc.components ??= {};
  const found: Record<string, Json> = { ...(doc.components.schemas ?? {}) };
  const hoist = hoister(found);
  for (const ops of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(ops)) {
      for (const param of op.parameters ?? []) {
        const schema = refine(param.schema, (n) => n) as Json;
        // Generators and Swagger UI read the parameter's own description, not the schema's.
        const text = param.description ?? schema?.description;
        if (typeof text === "string") {
          param.description = text;
          if (schema.description === text) delete schema.description;
        }
        param.schema = schema;
      }
      for (const media of Object.values(op.requestBody?.content ?? {}))
        if (isObject(media) && media.schema) media.schema = refine(media.schema, hoist);
      for (const response of Object.values(op.responses ?? {})) {
        const content = response.content;
        if (!isObject(content)) continue;
        // The plugin writes `{ type: "void", description }` as the "content" of a t.Void answer.
        if (typeof content.type === "string" && !isObject(content.type)) {
          delete response.content;
          continue;
        }
        for (const media of Object.values(content))
          if (isObject(media) && media.schema) media.schema = refine(media.schema, hoist);
      }
    }
  }
  doc.components.schemas = Object.fromEntries(
    Object.keys(found)
      .sort()
      .map((name) => [name, found[name]]),
  );
  return doc;
}

/** The `@elysiajs/openapi` plugin with its document completed and refined (see above). */
export function openapiDocument(
  options: ElysiaOpenAPIConfig<boolean, string> & { routes: () => readonly DocumentedRoute[] },
) {
  const { routes, ...rest } = options;
  const config = {
    ...rest,
    documentation: { ...rest.documentation, tags: API_TAGS.map((tag) => ({ ...tag })) },
  };
  if (config.enabled === false) return openapi(config);
  const specPath = config.specPath ?? `${config.path ?? "/openapi"}/json`;
  // The plugin's document shares objects with route definitions (a module-level `detail` is the
  // same object in every app built in one process), so it is refined as a JSON copy, once per
  // document the plugin hands out (it caches one). A hook registered before `use` applies to the
  // plugin's routes; a value returned from it replaces the response.
  const refined = new WeakMap<object, Document>();
  return new Elysia({ name: "openapi-document" })
    .onAfterHandle(({ route, responseValue }) => {
      if (route !== specPath || !isObject(responseValue)) return;
      let doc = refined.get(responseValue);
      if (!doc) {
        const copy = JSON.parse(JSON.stringify(responseValue)) as Document;
        doc = refineDocument(describeParameters(fillRequestBodies(copy, routes()), routes()));
        addProblemResponses(doc);
        refined.set(responseValue, doc);
      }
      return doc;
    })
    .use(openapi(config));
}
