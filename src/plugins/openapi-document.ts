import { type ElysiaOpenAPIConfig, type OpenAPIVersion, openapi } from "@elysiajs/openapi";
import { getPossiblePath, unwrapSchema } from "@elysiajs/openapi/openapi";
import { Elysia, type InputSchema } from "elysia";
import { acceptsMultipart } from "@/plugins/body-limit";
import { addProblemResponses } from "@/plugins/openapi-errors";

export type DocumentedRoute = { method: string; path: string; hooks: { body?: unknown } };
type Operation = { requestBody?: { content?: Record<string, unknown> } };
type Document = { openapi?: string; paths?: Record<string, Record<string, Operation>> };

/*
 * The openapi plugin only derives request media types from string parse hints; for a function
 * parser it leaves `requestBody.content` empty. The app's global parser (src/app.ts) is a function,
 * so every body-taking route would be documented without a schema. The media types it accepts are
 * known: JSON everywhere, multipart where `acceptMultipart` registered the route. This fills them
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
      if (acceptsMultipart(route.path)) body.content["multipart/form-data"] = { schema };
    }
  }
  return doc;
}

/** The `@elysiajs/openapi` plugin with request bodies filled in for the app's own body parser. */
export function openapiDocument(
  options: ElysiaOpenAPIConfig<boolean, string> & { routes: () => readonly DocumentedRoute[] },
) {
  const { routes, ...config } = options;
  if (config.enabled === false) return openapi(config);
  const specPath = config.specPath ?? `${config.path ?? "/openapi"}/json`;
  // A hook registered before `use` applies to the plugin's routes; the plugin caches the document
  // it returns, and filling is idempotent, so patching that object in place is safe.
  return new Elysia({ name: "openapi-document" })
    .onAfterHandle(({ route, responseValue }) => {
      if (route === specPath && responseValue && typeof responseValue === "object")
        addProblemResponses(fillRequestBodies(responseValue as Document, routes()));
    })
    .use(openapi(config));
}
