import { afterEach, describe, expect, it, vi } from "vitest";
import { sharedDataPresent } from "./support/shared-data.ts";

describe("sharedDataPresent", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("is true when every path exists, and skips with a warning when one is missing outside CI", () => {
    vi.stubEnv("CI", "");
    expect(sharedDataPresent("this file", new URL(import.meta.url))).toBe(true);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(sharedDataPresent("goldens", "/nonexistent/shared/clip/manifest.json")).toBe(false);
    expect(warn.mock.calls[0]?.[0]).toMatch(
      /skipping goldens: \/nonexistent\/shared\/clip\/manifest\.json missing/,
    );
    warn.mockRestore();
  });

  it("fails instead of skipping when CI=true, since CI always has ../shared", () => {
    vi.stubEnv("CI", "true");
    expect(() => sharedDataPresent("goldens", "/nonexistent/shared/clip/manifest.json")).toThrow(
      /CI=true and goldens: .* missing/,
    );
  });
});
