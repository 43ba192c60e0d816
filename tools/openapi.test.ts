import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
let dir: string;
let written: string;

// `npm run openapi` in Node, as the SDK generator's pipeline runs it: no Worker runtime involved.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "openapi-"));
  await run(process.execPath, ["tools/openapi.ts", "--out", join(dir, "openapi.json")]);
  written = await readFile(join(dir, "openapi.json"), "utf8");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("npm run openapi", () => {
  it("writes a document that validates as OpenAPI 3.1", async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(written));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("names the package's version and the bearer schemes", async () => {
    const document = JSON.parse(written);
    const pkg = JSON.parse(await readFile("package.json", "utf8"));
    expect(document.info).toMatchObject({ title: "clip-edge", version: pkg.version });
    expect(document.components.securitySchemes.ApiKey).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("is what docs/openapi.json holds, so the committed copy is current", async () => {
    expect(await readFile("docs/openapi.json", "utf8")).toBe(written);
  });

  it("--check fails on a stale file", async () => {
    const stale = join(dir, "stale.json");
    await run(process.execPath, ["tools/openapi.ts", "--out", stale]);
    await import("node:fs/promises").then((fs) => fs.appendFile(stale, " "));
    await expect(
      run(process.execPath, ["tools/openapi.ts", "--check", "--out", stale]),
    ).rejects.toMatchObject({
      code: 1,
    });
  });
});
