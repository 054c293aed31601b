/*
 * Smoke test for the compiled binary: an xlsx goes through registration and PATCH, which run in the
 * analysis worker pool, so a worker entry missing from the build fails here. Needs the dev token
 * (ENVIRONMENT=development) and the seeded catalogue (SEED_ON_START, on by default outside production).
 */
import { f1Xlsx } from "../tests/fixtures/analysis/fixtures";

const base = `http://127.0.0.1:${process.env.PORT ?? "8000"}/api/v1`;
const auth = { Authorization: "Bearer mock-access-token-dev-12345" };
const json = { ...auth, "Content-Type": "application/json" };

async function call(method: string, path: string, body?: unknown, form?: FormData) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: form ? auth : json,
    body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return JSON.parse(text);
}

const project = await call("POST", "/project", { name: "binary smoke", code: `SMOKE-${Date.now()}` });
const templates = await call("GET", `/project/${project.id}/analysis/template`);
const issueId = templates.items[0]?.issueId;
if (!issueId) throw new Error("the catalogue is empty (SEED_ON_START off?)");
const session = await call("POST", `/project/${project.id}/analysis/session`, { issueId });
const form = new FormData();
form.append("file", new File([await f1Xlsx()], "F1.xlsx"));
const file = await call("POST", `/project/${project.id}/file`, undefined, form);
const sbase = `/project/${project.id}/analysis/session/${session.id}`;
const registered = await call("POST", `${sbase}/file`, { projectFileId: file.id });
const parsed = await call("PATCH", `${sbase}/file/${registered.id}`, {
  sheetName: "Sheet1",
  axisConfig: { a: "年度", b: "部門" },
});
if (parsed.rowCount !== 8 || parsed.data?.[0]?.["値"] !== 1000) {
  throw new Error(`unexpected parse result: ${JSON.stringify(parsed).slice(0, 300)}`);
}
console.log(`analysis parse through the worker pool: ${parsed.rowCount} rows, hash ${parsed.dataHash}`);
