import { describe, expect, test } from "bun:test";
import { addProblemResponses, operationCodes } from "./openapi-errors";

const doc = () => ({
  paths: {
    "/api/v1/thing/{id}": {
      get: {
        parameters: [{ in: "path" }],
        "x-problem-codes": ["PROJECT_NOT_FOUND", "PROJECT_INACTIVE", "FILE_NOT_FOUND"],
        responses: { "200": { description: "ok" }, "404": { description: "Gone for good" } },
      },
      post: { requestBody: { content: { "application/json": {} } }, responses: {} },
    },
    "/health": { get: { responses: {} } },
  },
});

describe("addProblemResponses", () => {
  test("groups codes by status, keeps an existing description and is idempotent", () => {
    const d = addProblemResponses(doc());
    const get = d.paths["/api/v1/thing/{id}"].get as any;
    const r404 = get.responses["404"];
    expect(r404.description).toStartWith("Gone for good\n\nNot Found:\n- `PROJECT_NOT_FOUND`");
    expect(r404.content["application/problem+json"].schema.allOf[1].properties.code.enum).toEqual([
      "PROJECT_NOT_FOUND",
      "FILE_NOT_FOUND",
    ]);
    const again = JSON.stringify(addProblemResponses(d));
    expect(again).toBe(JSON.stringify(d));
    expect((d as { components?: { schemas?: object } }).components?.schemas).toHaveProperty("Problem");
  });

  test("reads skip PROJECT_INACTIVE; bodies add parsing codes; exempt paths skip the rate limit", () => {
    const d = doc();
    const get = operationCodes("/api/v1/thing/{id}", "get", d.paths["/api/v1/thing/{id}"].get);
    expect(get).not.toContain("PROJECT_INACTIVE");
    expect(get).toContain("VALIDATION_FAILED");
    const post = operationCodes("/api/v1/thing/{id}", "post", d.paths["/api/v1/thing/{id}"].post);
    expect(post).toEqual(expect.arrayContaining(["MALFORMED_REQUEST", "PAYLOAD_TOO_LARGE", "RATE_LIMITED"]));
    expect(operationCodes("/health", "get", d.paths["/health"].get)).toEqual(["INTERNAL_ERROR"]);
  });
});
