import { env } from "cloudflare:workers";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import type { AppEnv } from "../context.ts";
import { PROBLEM_CODES_EXTENSION } from "./problems.ts";
import { addRoute, jsonResponse } from "./route.ts";

const Thing = z.object({ id: z.string(), size: z.int() }).meta({ id: "Thing" });
const thingRoute = createRoute({
  method: "get",
  path: "/things/{id}",
  operationId: "getThing",
  summary: "A thing",
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: jsonResponse(Thing, "The thing.", { id: "a", size: 1 }) },
});

function app() {
  const app = new OpenAPIHono<AppEnv>();
  addRoute(app, thingRoute, ["not_found", "internal_error", "invalid_request"], (c) =>
    c.json({ id: c.req.param("id"), size: 2 }, 200),
  );
  return app;
}

describe("addRoute", () => {
  it("serves the handler on the route's path, its {params} as Hono's :params", async () => {
    const response = await app().request("/things/t1");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: "t1", size: 2 });
  });

  it("puts the operation in the document with one problem response per status, listing its codes", () => {
    const document = app().getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    const operation = document.paths?.["/things/{id}"]?.get;
    expect(Object.keys(operation?.responses ?? {})).toEqual(["200", "400", "404", "500"]);
    const notFound = operation?.responses?.["404"] as Record<string, unknown>;
    expect(notFound[PROBLEM_CODES_EXTENSION]).toEqual(["not_found"]);
    expect(Object.keys(notFound.content as object)).toEqual(["application/problem+json"]);
    expect(document.components?.schemas?.Thing).toBeDefined();
  });

  it("types the handler from the declared response, so a body off the schema does not compile", () => {
    const wrong = new OpenAPIHono<AppEnv>();
    // @ts-expect-error `size` must be an integer, not a string: the type checker refuses this handler.
    addRoute(wrong, thingRoute, [], (c) => c.json({ id: "x", size: "big" }, 200));
    // @ts-expect-error 201 is not a declared status of this route.
    addRoute(wrong, thingRoute, [], (c) => c.json({ id: "x", size: 1 }, 201));
    expect(wrong.routes.length).toBe(2);
  });
});

describe("the app's validation hook", () => {
  it("answers a library-validated body that fails with our problem, never the library's default body", async () => {
    const app = createApp();
    const route = createRoute({
      method: "post",
      path: "/validated-by-the-library",
      request: { body: { content: { "application/json": { schema: z.object({ n: z.int() }) } } } },
      responses: { 200: { description: "ok" } },
    });
    app.openapi(route, (c) => c.text("ran"));
    const response = await app.request(
      "/validated-by-the-library",
      { method: "POST", headers: { "content-type": "application/json" }, body: '{"n":"one"}' },
      env,
    );
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const body = (await response.json()) as {
      code: string;
      success?: unknown;
      errors: { pointer: string }[];
    };
    expect(body.code).toBe("invalid_request");
    expect(body.success).toBeUndefined();
    expect(body.errors[0]?.pointer).toBe("/n");
  });
});
