import { describe, expect, it } from "vitest";
import { secretMatchesAny, secretsEqual } from "./secrets-equal.ts";

describe("secretsEqual", () => {
  it("is true only for identical, non-empty secrets", async () => {
    expect(await secretsEqual("s3cret-token", "s3cret-token")).toBe(true);
    expect(await secretsEqual("s3cret-token", "s3cret-tokeN")).toBe(false);
    expect(await secretsEqual("s3cret", "s3cret-token")).toBe(false);
    expect(await secretsEqual("", "")).toBe(false);
    expect(await secretsEqual("a", "")).toBe(false);
  });

  it("secretMatchesAny checks every candidate", async () => {
    expect(await secretMatchesAny("two", ["one", "two", "three"])).toBe(true);
    expect(await secretMatchesAny("four", ["one", "two"])).toBe(false);
    expect(await secretMatchesAny("x", [])).toBe(false);
  });
});
