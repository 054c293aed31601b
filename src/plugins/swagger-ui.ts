import { createHash } from "node:crypto";
import { Elysia } from "elysia";
import faviconPath from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };
import swaggerPackage from "swagger-ui-dist/package.json" with { type: "json" };
import cssPath from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import bundlePath from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };

/*
 * Swagger UI served by the service itself, from the pinned `swagger-ui-dist` package. The
 * `with { type: "file" }` imports make `bun build --compile` embed the files in the executable
 * (the paths then point into /$bunfs), so /docs works without internet and without node_modules.
 *
 * The page has no inline script or style, so the /docs CSP (security-headers.ts) can stay at
 * `'self'`: the page config travels as a JSON data block, which CSP does not treat as a script.
 */

export const SWAGGER_UI_VERSION: string = swaggerPackage.version;

type Variant = { body: Uint8Array; etag: string };
/** `gzip` is set for compressible files: the 1.7 MB bundle goes out as 0.46 MB (compressed once, ~0.1 s). */
type Asset = { type: string; identity: Variant; gzip: Variant | null };

const etagOf = (body: Uint8Array) =>
  `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
const asset = (body: Uint8Array, type: string, compress = false): Asset => {
  const gz = compress ? Bun.gzipSync(body as Uint8Array<ArrayBuffer>) : null;
  return {
    type,
    identity: { body, etag: etagOf(body) },
    // Each encoding is its own representation with its own strong validator (RFC 9110 §8.8.3).
    gzip: gz ? { body: gz, etag: etagOf(gz) } : null,
  };
};

function acceptsGzip(request: Request): boolean {
  return (request.headers.get("accept-encoding") ?? "").split(",").some((part) => {
    const [coding, ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    return coding === "gzip" && (!q || Number(q.slice(2)) > 0);
  });
}

// The initializer is ours, so its URL carries no version; it is revalidated (ETag) instead.
const INITIALIZER = `"use strict";
(function () {
  var config = JSON.parse(document.getElementById("swagger-config").textContent);
  window.ui = SwaggerUIBundle(config);
})();
`;

/* The page and initializer are revalidated (ETag); the versioned assets never change. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export type SwaggerUiOptions = {
  /** Where the page lives (`/docs`); assets go under `<path>/assets/<swagger-ui version>/`. */
  path: string;
  specPath: string;
  title: string;
};

export function swaggerUi({ path, specPath, title }: SwaggerUiOptions) {
  const assetBase = `${path}/assets/${SWAGGER_UI_VERSION}`;
  const config = {
    url: specPath,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    filter: true,
    // The default validator badge calls validator.swagger.io: off (offline, CSP 'self').
    validatorUrl: null,
  };
  // `<` escaped so no string in the config can close the data block.
  const configJson = JSON.stringify(config).replace(/</g, "\\u003c");
  const page = new TextEncoder().encode(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" type="image/png" href="${assetBase}/favicon-32x32.png">
<link rel="stylesheet" href="${assetBase}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script type="application/json" id="swagger-config">${configJson}</script>
<script src="${assetBase}/swagger-ui-bundle.js"></script>
<script src="${path}/swagger-initializer.js"></script>
</body>
</html>
`);

  const pageAsset = asset(page, "text/html; charset=utf-8");
  const initAsset = asset(new TextEncoder().encode(INITIALIZER), "text/javascript; charset=utf-8");
  // Read lazily: the bundle is 1.7 MB and most processes never serve /docs.
  const fromFile = (file: string, type: string, compress: boolean) => {
    let loaded: Promise<Asset> | null = null;
    return () =>
      (loaded ??= Bun.file(file)
        .bytes()
        .then((body) => asset(body, type, compress)));
  };

  type Ctx = {
    request: Request;
    set: { status?: number | string; headers: Record<string, string | number> };
  };
  const serve =
    (load: () => Asset | Promise<Asset>, cacheControl: string) =>
    async ({ request, set }: Ctx) => {
      const a = await load();
      const v = a.gzip && acceptsGzip(request) ? a.gzip : a.identity;
      Object.assign(set.headers, { "Content-Type": a.type, ETag: v.etag, "Cache-Control": cacheControl });
      if (a.gzip) {
        set.headers.Vary = "Accept-Encoding";
        if (v === a.gzip) set.headers["Content-Encoding"] = "gzip";
      }
      const match = request.headers.get("if-none-match");
      if (match?.split(",").some((t) => t.trim() === v.etag || t.trim() === "*")) {
        set.status = 304;
        return "";
      }
      return v.body;
    };

  const hidden = { detail: { hide: true } };
  return new Elysia({ name: "swagger-ui" })
    .get(
      path,
      serve(() => pageAsset, REVALIDATE),
      hidden,
    )
    .get(
      `${path}/swagger-initializer.js`,
      serve(() => initAsset, REVALIDATE),
      hidden,
    )
    .get(
      `${assetBase}/swagger-ui-bundle.js`,
      serve(fromFile(bundlePath, "text/javascript; charset=utf-8", true), IMMUTABLE),
      hidden,
    )
    .get(
      `${assetBase}/swagger-ui.css`,
      serve(fromFile(cssPath, "text/css; charset=utf-8", true), IMMUTABLE),
      hidden,
    )
    .get(
      `${assetBase}/favicon-32x32.png`,
      serve(fromFile(faviconPath, "image/png", false), IMMUTABLE),
      hidden,
    );
}
