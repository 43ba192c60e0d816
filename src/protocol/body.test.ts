import { describe, expect, it } from "vitest";
import { checkFrameContentType, isFrameContentType, readFrameBody } from "./body.ts";

function streamOf(chunks: number[][], onCancel?: (reason: unknown) => void): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk) controller.enqueue(new Uint8Array(chunk));
      else controller.close();
    },
    cancel: onCancel,
  });
}

describe("isFrameContentType", () => {
  it("accepts our media type with any case and parameters, and nothing else", () => {
    expect(isFrameContentType("application/vnd.clip-edge.batch")).toBe(true);
    expect(isFrameContentType(" Application/VND.clip-edge.batch ; v=1")).toBe(true);
    expect(isFrameContentType("application/octet-stream")).toBe(false);
    expect(isFrameContentType("application/vnd.clip-edge.batch+json")).toBe(false);
    expect(isFrameContentType(null)).toBe(false);
  });

  it("names what it got in the error", () => {
    expect(checkFrameContentType("text/plain")).toEqual({
      ok: false,
      code: "unsupported_media_type",
      message: "expected Content-Type application/vnd.clip-edge.batch, got text/plain",
    });
    expect(checkFrameContentType("application/vnd.clip-edge.batch")).toBeUndefined();
  });
});

describe("readFrameBody", () => {
  it("joins chunks into one buffer that starts at offset 0", async () => {
    const result = await readFrameBody(streamOf([[1, 2], [3], [4, 5, 6]]));
    expect(result).toEqual({ ok: true, value: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    expect(result.ok && result.value.byteOffset).toBe(0);
  });

  it("returns a single chunk without copying, and an empty body for none", async () => {
    expect(await readFrameBody(streamOf([[7, 8]]))).toEqual({ ok: true, value: new Uint8Array([7, 8]) });
    expect(await readFrameBody(null)).toEqual({ ok: true, value: new Uint8Array(0) });
  });

  it("refuses a declared Content-Length over the limit without reading", async () => {
    let pulled = false;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>(
      {
        pull() {
          pulled = true;
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const result = await readFrameBody(body, { maxBytes: 10, contentLength: "11" });
    expect(result).toMatchObject({ ok: false, code: "limit_exceeded" });
    expect(pulled).toBe(false);
    expect(cancelled).toBe(true);
  });

  it("stops and cancels the stream as soon as an undeclared or understated body passes the limit", async () => {
    let cancelled: unknown;
    const chunks = Array.from({ length: 100 }, () => [0, 0, 0, 0]);
    const result = await readFrameBody(
      streamOf(chunks, (reason) => {
        cancelled = reason;
      }),
      { maxBytes: 10, contentLength: "4" },
    );
    expect(result).toEqual({
      ok: false,
      code: "limit_exceeded",
      message: "body too large: more than 10 bytes arrived; the limit is 10",
    });
    expect(cancelled).toBe("body too large");
  });

  it("accepts a body of exactly the limit", async () => {
    expect((await readFrameBody(streamOf([[1, 2, 3], [4]]), { maxBytes: 4 })).ok).toBe(true);
  });

  it("reports a garbled Content-Length and a failing stream as malformed", async () => {
    expect(await readFrameBody(streamOf([]), { contentLength: "12abc" })).toMatchObject({
      code: "malformed_frame",
    });
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("connection reset"));
      },
    });
    expect(await readFrameBody(failing)).toEqual({
      ok: false,
      code: "malformed_frame",
      message: "body stream failed: connection reset",
    });
  });
});
