import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { describe, expect, it } from "vitest";
import { DOCS_BASE, ERROR_CODES, Problem } from "../../../src/api/index.ts";
import { ApiError } from "../../errors.ts";
import { requestId } from "../request-id/index.ts";
import { handleError, notFound } from "./index.ts";

const ID = "test-request-0001";

/** An app whose routes throw what the test gives them, with the error handler's two loggers recorded. */
function appThrowing(error: () => unknown) {
  const logged: string[] = [];
  const noted: string[] = [];
  const app = new Hono();
  app.use("*", requestId());
  app.get("/things", () => {
    throw error();
  });
  app.post("/things", (c) => c.text("made"));
  app.delete("/things/:id", (c) => c.text("gone"));
  app.get("/orders/:n{[0-9]+}", (c) => c.text("an order"));
  app.notFound(notFound(() => app.routes));
  app.onError(
    handleError(
      (line) => void logged.push(line),
      (line) => void noted.push(line),
    ),
  );
  const call = (path: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers: { "x-request-id": ID, ...init.headers } });
  return { call, logged, noted };
}

/** An RFC 9457 problem document with our extension members, and the status, code and request id it should carry. */
async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = Problem.parse(await response.json());
  expect(problem).toMatchObject({
    type: `${DOCS_BASE}#${code}`,
    title: ERROR_CODES[code as keyof typeof ERROR_CODES].title,
    status,
    code,
    request_id: ID,
  });
  expect(response.headers.get("x-request-id")).toBe(ID);
  return problem;
}

describe("handleError: our own errors", () => {
  it("keep their code, status, detail, field errors, headers and Retry-After (rounded up)", async () => {
    const { call, logged, noted } = appThrowing(
      () =>
        new ApiError("rate_limited", "slow down", {
          headers: { "ratelimit-policy": '"rate";q=1;w=1' },
          retryAfterSeconds: 2.2,
          errors: [{ pointer: "/input/0", detail: "too long" }],
        }),
    );
    const response = await call("/things");
    const problem = await expectProblem(response, 429, "rate_limited");
    expect(problem.detail).toBe("slow down");
    expect(problem.errors).toEqual([{ pointer: "/input/0", detail: "too long" }]);
    expect(response.headers.get("ratelimit-policy")).toBe('"rate";q=1;w=1');
    expect(response.headers.get("retry-after")).toBe("3");
    expect(logged).toEqual([]);
    expect(noted).toEqual([]);
  });

  it("send their log note to the info logger, with the request id, never to the error logger", async () => {
    const { call, logged, noted } = appThrowing(
      () => new ApiError("invalid_request", "the body stopped", { log: "client went away mid-body" }),
    );
    await expectProblem(await call("/things"), 400, "invalid_request");
    expect(noted).toEqual([`[${ID}] client went away mid-body`]);
    expect(logged).toEqual([]);
  });
});

describe("handleError: Hono's HTTP exceptions", () => {
  it.each([
    [413, "payload_too_large"],
    [404, "not_found"],
    [500, "internal_error"],
    [503, "internal_error"],
    [400, "invalid_request"],
    [401, "invalid_request"],
  ] as const)("map %i to %s", async (status, code) => {
    const { call, logged } = appThrowing(
      () => new HTTPException(status as ContentfulStatusCode, { message: "from hono" }),
    );
    const problem = await expectProblem(await call("/things"), ERROR_CODES[code].status, code);
    expect(problem.detail).toBe("from hono");
    expect(logged).toEqual([]);
  });

  it("say the request was refused when the exception has no message", async () => {
    const { call } = appThrowing(() => new HTTPException(400));
    const problem = await expectProblem(await call("/things"), 400, "invalid_request");
    expect(problem.detail).toBe("the request was refused");
  });
});

describe("handleError: anything else is a bug", () => {
  it("answers a bare 500 internal_error that leaks nothing, and logs the message with the request id", async () => {
    const { call, logged, noted } = appThrowing(() => new TypeError("D1 password hunter2 rejected"));
    const response = await call("/things");
    const text = await response.clone().text();
    const problem = await expectProblem(response, 500, "internal_error");
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("TypeError");
    expect(problem.detail).toMatch(/request id identifies it/);
    expect(logged).toEqual([`[${ID}] unhandled TypeError: D1 password hunter2 rejected`]);
    expect(noted).toEqual([]);
  });

  it("only notes, at info level, a failure of a request whose client went away", async () => {
    const { call, logged, noted } = appThrowing(() => new Error("Network connection lost."));
    const gone = new AbortController();
    gone.abort();
    const response = await call("/things", { signal: gone.signal });
    const problem = await expectProblem(response, 500, "internal_error");
    expect(problem.detail).toMatch(/client went away/);
    expect(logged).toEqual([]);
    expect(noted).toEqual([
      `[${ID}] the client went away (Error: Network connection lost.); request dropped`,
    ]);
  });
});

describe("notFound", () => {
  it("answers 404 not_found for a path no route has", async () => {
    const { call } = appThrowing(() => undefined);
    const problem = await expectProblem(await call("/nowhere"), 404, "not_found");
    expect(problem.detail).toBe("no route for GET /nowhere");
  });

  it("answers 405 method_not_allowed with Allow listing the path's methods (middleware excluded)", async () => {
    const { call } = appThrowing(() => undefined);
    const response = await call("/things", { method: "PUT" });
    const problem = await expectProblem(response, 405, "method_not_allowed");
    expect(response.headers.get("allow")).toBe("GET, POST");
    expect(problem.detail).toBe("/things takes GET, POST, not PUT");
  });

  it("matches a concrete path against parameterised routes: 405 with their methods, 404 beyond them", async () => {
    const { call } = appThrowing(() => undefined);
    const response = await call("/things/7", { method: "GET" });
    await expectProblem(response, 405, "method_not_allowed");
    expect(response.headers.get("allow")).toBe("DELETE");
    const order = await call("/orders/12", { method: "PUT" });
    await expectProblem(order, 405, "method_not_allowed");
    expect(order.headers.get("allow")).toBe("GET");
    for (const path of ["/things/7/parts", "/things/", "/things//", "/orders/twelve"])
      await expectProblem(await call(path), 404, "not_found");
  });
});
