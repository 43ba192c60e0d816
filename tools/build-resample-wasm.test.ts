import { execFile } from "node:child_process";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileResampleWasm, RESAMPLE_WASM_MODULE, resampleWasmModule } from "./build-resample-wasm.ts";

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "resample-wasm-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("npm run build:resample-wasm", () => {
  it("compiles the AssemblyScript source to what resample.wasm.gen.ts holds, so the committed binary is current", async () => {
    const built = resampleWasmModule(await compileResampleWasm());
    expect(await readFile(RESAMPLE_WASM_MODULE, "utf8")).toBe(built);
  });

  it("--check fails on a stale module and passes on a fresh one", async () => {
    const out = join(dir, "resample.wasm.gen.ts");
    await writeFile(out, await readFile(RESAMPLE_WASM_MODULE, "utf8"));
    await run(process.execPath, ["tools/build-resample-wasm.ts", "--check", "--out", out]);
    await appendFile(out, " ");
    await expect(
      run(process.execPath, ["tools/build-resample-wasm.ts", "--check", "--out", out]),
    ).rejects.toMatchObject({ code: 1 });
  });
});
