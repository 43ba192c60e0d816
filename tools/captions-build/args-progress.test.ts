import { describe, expect, it } from "vitest";
import { parseBuildArgs } from "./args.ts";
import { createProgressBar } from "./progress.ts";

describe("captions:build arguments", () => {
  it("defaults: the embedded model, its captions folder, batches of 64 on the CPU", () => {
    expect(parseBuildArgs(["--corpus", "c.txt"])).toEqual({
      ok: true,
      value: {
        corpus: "c.txt",
        modelDir: "models/tiny-clip",
        outDir: "models/tiny-clip/captions",
        batchSize: 64,
        providers: ["cpu"],
        precision: "fp32",
        threads: undefined,
      },
    });
    const custom = parseBuildArgs([
      "--corpus",
      "c.txt",
      "--model",
      "m",
      "--batch",
      "8",
      "--providers",
      "cuda,cpu",
      "--threads",
      "2",
    ]);
    expect(custom.ok && custom.value).toMatchObject({
      outDir: "m/captions",
      batchSize: 8,
      providers: ["cuda", "cpu"],
      threads: 2,
    });
  });

  it("refuses what it cannot use, in one line", () => {
    const message = (argv: string[]) => {
      const parsed = parseBuildArgs(argv);
      return parsed.ok ? "" : parsed.message;
    };
    expect(message([])).toMatch(/--corpus FILE is required/);
    expect(message(["--corpus", "c", "--batch", "0"])).toMatch(/--batch/);
    expect(message(["--corpus", "c", "--providers", "gpu"])).toMatch(/unknown provider "gpu"/);
    expect(message(["--corpus", "c", "--precision", "int4"])).toMatch(/--precision/);
    expect(message(["--corpus", "c", "--nope"])).toMatch(/Unknown option/);
    expect(parseBuildArgs(["--help"])).toEqual({ ok: true, value: { help: true } });
  });
});

describe("the progress bar", () => {
  const recorder = (isTTY: boolean) => {
    const lines: string[] = [];
    return { lines, stream: { isTTY, columns: 100, write: (text: string) => lines.push(text) } };
  };

  it("on a terminal, redraws one line at most ten times a second, then ends it", () => {
    let time = 0;
    const { lines, stream } = recorder(true);
    const bar = createProgressBar(stream, "captions", 1000, { now: () => time });
    bar.update(0);
    time = 50;
    bar.update(100); // too soon: skipped
    time = 1000;
    bar.update(500);
    bar.end("1000 embedded");
    expect(lines).toHaveLength(3);
    const clearLine = "\r\x1b[2K";
    expect(lines[1]?.startsWith(clearLine)).toBe(true);
    expect(lines[1]?.slice(clearLine.length)).toMatch(
      /^captions {2}\[#+-+\] {2}50% {2}500\/1,000 {2}500\/s {2}ETA 0:01$/,
    );
    expect(lines[2]).toBe("\r\x1b[2Kcaptions  1000 embedded\n");
  });

  it("in a log, writes plain lines at the interval and always the last one", () => {
    let time = 0;
    const { lines, stream } = recorder(false);
    const bar = createProgressBar(stream, "captions", 10, { now: () => time, plainIntervalMs: 1000 });
    bar.update(1);
    time = 500;
    bar.update(5);
    time = 600;
    bar.update(10);
    expect(lines).toEqual(["captions:  10%  1/10  0/s\n", "captions: 100%  10/10  17/s\n"]);
  });
});
