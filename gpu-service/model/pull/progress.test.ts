import { describe, expect, it } from "vitest";
import { createProgress, formatBytes } from "./progress.ts";

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  let clock = 0;
  const progress = createProgress(
    { isTTY, columns: 100, write: (text: string) => writes.push(text) },
    { now: () => clock, plainIntervalMs: 10_000 },
  );
  return { writes, progress, advance: (ms: number) => (clock += ms) };
}

describe("createProgress", () => {
  it("redraws one line in place on a terminal, at most every 100 ms, and ends it with a newline", () => {
    const { writes, progress, advance } = recorder(true);
    const file = progress.begin("onnx/text_model.onnx", 2_000_000, 0);
    advance(50);
    file.update(500_000); // too soon after the first draw: skipped
    advance(100);
    file.update(1_000_000);
    advance(850);
    file.end("verified (sha256)");
    expect(writes.every((w) => w.startsWith("\r\x1b[2K"))).toBe(true);
    expect(writes).toHaveLength(3);
    expect(writes[1]).toContain(
      "onnx/text_model.onnx  [###############---------------]  50%  1.0 MB/2.0 MB  6.7 MB/s",
    );
    expect(writes[2]).toBe("\r\x1b[2Konnx/text_model.onnx  verified (sha256), 2.0 MB in 1.0 s\n");
  });

  it("writes plain lines in a log: one every 10 s while a file is under way, one when it ends", () => {
    const { writes, progress, advance } = recorder(false);
    const file = progress.begin("onnx/vision_model.onnx", 4_000_000, 1_000_000);
    advance(5_000);
    file.update(2_000_000);
    advance(5_000);
    file.update(3_000_000);
    advance(2_000);
    file.end("resumed and verified (sha256)");
    progress.note("config.json", "already there (verified)");
    expect(writes).toEqual([
      "onnx/vision_model.onnx: 75% (3.0 MB/4.0 MB, 200.0 kB/s) (resumed at 1.0 MB)\n",
      "onnx/vision_model.onnx: resumed and verified (sha256), 4.0 MB in 12.0 s (resumed at 1.0 MB)\n",
      "config.json: already there (verified)\n",
    ]);
  });
});

describe("formatBytes", () => {
  it("uses decimal units like the Hub", () => {
    expect([999, 1000, 151_277_000, 2_500_000_000].map(formatBytes)).toEqual([
      "999 B",
      "1.0 kB",
      "151.3 MB",
      "2.5 GB",
    ]);
  });
});
