import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ClipTokenizer, huggingFaceTokenizerFiles } from "../src/tokenizer/index.ts";
import { testVocabulary } from "../test/support/test-vocabulary.ts";

const cli = new URL("./tokenize.ts", import.meta.url).pathname;

function modelFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "tokenize-cli-"));
  for (const [name, text] of Object.entries(huggingFaceTokenizerFiles(testVocabulary())))
    writeFileSync(join(dir, name), text);
  return dir;
}

describe("npm run tokenize (tools/tokenize.ts)", () => {
  it("writes one {ids} line per {text} line, in order, as encode() gives them", () => {
    const texts = ["a photo of the cat", "", "Red   CIRCLE &amp; dog", "😀 naïve"];
    const input = `${texts.map((text) => JSON.stringify({ text })).join("\n")}\nnot json\n{"txt": 1}\n`;
    const run = spawnSync(process.execPath, [cli, "--vocab", modelFolder()], { input, encoding: "utf8" });
    expect(run.status).toBe(0);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const tokenizer = new ClipTokenizer(testVocabulary());
    expect(lines).toEqual([
      ...texts.map((text) => ({ ids: tokenizer.encode(text) })),
      { error: "not JSON" },
      { error: 'expected {"text": string}' },
    ]);
  });

  it("exits with a clear message for a missing vocabulary or missing flag", () => {
    const missing = spawnSync(process.execPath, [cli, "--vocab", "/nonexistent"], {
      input: "",
      encoding: "utf8",
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no vocabulary at \/nonexistent/);
    const usage = spawnSync(process.execPath, [cli], { input: "", encoding: "utf8" });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage:/);
  });
});
