import { describe, expect, test } from "bun:test";
import { refineDocument } from "./openapi-document";

const docWith = (schemas: Record<string, unknown>) => ({
  openapi: "3.1.2",
  paths: {
    "/a": {
      get: {
        parameters: [
          {
            name: "limit",
            in: "query",
            schema: {
              minimum: 1,
              description: "Page size",
              anyOf: [
                { type: "string", format: "integer", default: 0 },
                { type: "integer", minimum: 1 },
              ],
            },
          },
        ],
        responses: Object.fromEntries(
          Object.entries(schemas).map(([status, schema]) => [
            status,
            { description: "x", content: { "application/json": { schema } } },
          ]),
        ),
      },
    },
  },
});
const User = { title: "User", type: "object", properties: { id: { type: "integer" } } };

describe("refineDocument", () => {
  test("hoists titled schemas, keeps nullability at the reference, and collapses coerced integers", () => {
    const doc: any = refineDocument(
      docWith({
        "200": { type: "object", title: "Page_User", properties: { items: { type: "array", items: User } } },
        "201": { ...User, type: ["object", "null"] },
      }),
    );
    expect(doc.components.schemas).toEqual({
      Page_User: {
        type: "object",
        properties: { items: { type: "array", items: { $ref: "#/components/schemas/User" } } },
      },
      User: { type: "object", properties: { id: { type: "integer" } } },
    });
    const responses = doc.paths["/a"].get.responses;
    expect(responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Page_User",
    });
    expect(responses["201"].content["application/json"].schema).toEqual({
      anyOf: [{ $ref: "#/components/schemas/User" }, { type: "null" }],
    });
    const [limit] = doc.paths["/a"].get.parameters;
    expect(limit).toEqual({
      name: "limit",
      in: "query",
      description: "Page size",
      schema: { type: "integer", minimum: 1 },
    });
  });

  test("one title on two different shapes is an error, not a silent pick", () => {
    expect(() =>
      refineDocument(docWith({ "200": User, "201": { ...User, properties: { id: { type: "string" } } } })),
    ).toThrow(/two different schemas are titled "User"/);
  });

  test("a void answer has no content", () => {
    const doc: any = docWith({});
    doc.paths["/a"].get.responses["204"] = {
      description: "Done",
      content: { type: "void", description: "Done" },
    };
    expect(refineDocument(doc).paths!["/a"]!.get!.responses!["204"]).toEqual({ description: "Done" });
  });
});
