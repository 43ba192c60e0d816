import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, problemFor } from "./errors.ts";

describe("error codes", () => {
  it("are each documented in docs/errors.md with their status", () => {
    const docs = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(docs, code).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
  });

  it("build problem documents with a docs link and the request id", () => {
    expect(problemFor("invalid_json", "bad", "req_1")).toEqual({
      type: "https://clip-edge.dev/docs/errors#invalid_json",
      title: ERROR_CODES.invalid_json.title,
      status: 400,
      detail: "bad",
      code: "invalid_json",
      request_id: "req_1",
    });
  });
});
