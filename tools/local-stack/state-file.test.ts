import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readStackState, removeStackState, writeStackState } from "./state-file.ts";

const dir = mkdtempSync(join(tmpdir(), "stack-state-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the local stack's state file", () => {
  const path = join(dir, "nested", "local-stack.json");
  const state = {
    edgeUrl: "http://127.0.0.1:8787",
    gpuUrl: "http://127.0.0.1:8788",
    postgresUrl: "postgres://postgres:postgres@127.0.0.1:5433/postgres",
    gpuPid: 1234,
    edgePid: 1235,
    postgresPid: 1236,
    supervisorPid: 1233,
  };

  it("is written whole under the agreed field names, with no temp file left beside it", () => {
    const written = writeStackState(path, state);
    expect(Object.keys(JSON.parse(readFileSync(path, "utf8")))).toEqual([
      "edgeUrl",
      "gpuUrl",
      "postgresUrl",
      "gpuPid",
      "edgePid",
      "postgresPid",
      "supervisorPid",
      "updatedAt",
    ]);
    expect(Number.isNaN(Date.parse(written.updatedAt))).toBe(false);
    expect(readStackState(path)).toEqual(written);
    expect(readdirSync(join(dir, "nested"))).toEqual(["local-stack.json"]);
  });

  it("is replaced on a rewrite and may say a service is down", () => {
    writeStackState(path, { ...state, gpuPid: null });
    expect(readStackState(path)?.gpuPid).toBeNull();
  });

  it("reads a file written before the stack had a Postgres", () => {
    const { postgresUrl: _url, postgresPid: _pid, ...older } = state;
    writeFileSync(path, JSON.stringify({ ...older, updatedAt: new Date().toISOString() }));
    expect(readStackState(path)).toMatchObject({ gpuPid: 1234, edgePid: 1235 });
    expect(readStackState(path)?.postgresPid).toBeUndefined();
  });

  it("reads as absent when missing or not a state file, and removing it twice is fine", () => {
    writeFileSync(path, '{"edgeUrl": 1}');
    expect(readStackState(path)).toBeUndefined();
    removeStackState(path);
    removeStackState(path);
    expect(existsSync(path)).toBe(false);
    expect(readStackState(path)).toBeUndefined();
  });
});
