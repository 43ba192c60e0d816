import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../errors.ts";
import { handleError, notFound } from "../problem/index.ts";
import { newRequestId, requestId } from "./index.ts";

const OURS = /^req_[0-9a-f]{32}$/;

/** An app that reports the id its route saw, and routes that fail three ways, behind the one error handler. */
function appWithRequestId() {
  const seen: string[] = [];
  const app = new Hono();
  app.use("*", requestId());
  app.get("/echo", (c) => {
    seen.push(c.get("requestId"));
    return c.text("ok");
  });
  app.get("/refused", () => {
    throw new ApiError("forbidden", "not for you");
  });
  app.get("/bug", () => {
    throw new Error("a bug");
  });
  app.notFound(notFound(() => app.routes));
  app.onError(
    handleError(
      () => {},
      () => {},
    ),
  );
  const get = (path: string, id?: string) =>
    app.request(path, { headers: id === undefined ? {} : { "x-request-id": id } });
  return { get, seen };
}

describe("requestId", () => {
  it.each([
    ["the shortest acceptable id", "abcd1234"],
    ["the longest acceptable id", "a".repeat(128)],
    ["every allowed punctuation mark", "trace-01.span_02:attempt-3"],
    ["a UUID", "8e03978e-40d5-43e8-bc93-6894a57f9324"],
  ])("keeps and echoes %s; the route sees it", async (_name, id) => {
    const { get, seen } = appWithRequestId();
    const response = await get("/echo", id);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe(id);
    expect(seen).toEqual([id]);
  });

  it.each([
    ["one character too short", "abc1234"],
    ["one character too long", "a".repeat(129)],
    ["an empty header", ""],
    ["spaces", "my request id"],
    ["a slash", "tenant/12345678"],
    ["a second value smuggled after a comma", "abcd1234, evil-id-5678"],
    ["an encoded CRLF and a header", "abcd1234%0d%0aSet-Cookie:session=1"],
    ["markup for a log viewer", "<script>alert(1)</script>"],
    ["a quoted string", '"abcd1234"'],
  ])("replaces %s with one of ours (req_ and 32 hex), which the route sees", async (_name, id) => {
    const { get, seen } = appWithRequestId();
    const response = await get("/echo", id);
    const echoed = response.headers.get("x-request-id");
    expect(echoed).toMatch(OURS);
    expect(seen).toEqual([echoed]);
  });

  it("refuses a raw CR LF before it reaches us: the runtime will not build such a request", () => {
    expect(() => new Headers({ "x-request-id": "abcd1234\r\nSet-Cookie: session=1" })).toThrow();
  });

  it("gives a request without one an id of its own, a new one each time", async () => {
    const { get, seen } = appWithRequestId();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await get("/echo")).headers.get("x-request-id"));
    for (const id of ids) expect(id).toMatch(OURS);
    expect(new Set(ids).size).toBe(3);
    expect(seen).toEqual(ids);
    expect(newRequestId()).toMatch(OURS);
  });

  it.each([
    ["a refusal", "/refused", 403],
    ["a bug", "/bug", 500],
    ["an unknown path", "/nowhere", 404],
  ])("is on %s too, in the header and the problem body alike", async (_name, path, status) => {
    const { get } = appWithRequestId();
    const kept = await get(path, "client-trace-42");
    expect(kept.status).toBe(status);
    expect(kept.headers.get("x-request-id")).toBe("client-trace-42");
    expect(((await kept.json()) as { request_id: string }).request_id).toBe("client-trace-42");

    const generated = await get(path, "bad id");
    const id = generated.headers.get("x-request-id");
    expect(id).toMatch(OURS);
    expect(((await generated.json()) as { request_id: string }).request_id).toBe(id);
  });
});
