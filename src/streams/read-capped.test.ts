import { describe, expect, it } from "vitest";
import { concatBytes, readCapped } from "./read-capped.ts";

const streamOf = (...chunks: number[][]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(Uint8Array.from(chunk));
      controller.close();
    },
  });

describe("readCapped", () => {
  it("reads every chunk within the limit, the limit itself included", async () => {
    expect(await readCapped(streamOf([1, 2], [3]), 3)).toEqual({ ok: true, bytes: Uint8Array.of(1, 2, 3) });
    expect(await readCapped(null, 0)).toEqual({ ok: true, bytes: new Uint8Array(0) });
  });

  it("stops and cancels the stream once the limit is passed", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(1024)),
      cancel: () => {
        cancelled = true;
      },
    });
    expect(await readCapped(endless, 10_000)).toEqual({ ok: false, reason: "too_large" });
    expect(cancelled).toBe(true);
  });

  it("concatBytes joins chunks in order", () => {
    expect(concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)])).toEqual(Uint8Array.of(1, 2, 3));
  });
});
