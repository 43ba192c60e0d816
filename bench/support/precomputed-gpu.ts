// The GPU tier's text route replaced by its answers, for measuring the edge's own CPU: the edge's real `Inference`
// builds every request frame and decodes every answer frame (float16, as the tier sends them), but the answers were
// encoded once, before any timing — the tier's own work, and making up vectors, are left out. Signing and HTTP are
// left out too (one HMAC and one fetch per 1,024 texts, measured end to end instead).
import { CONTENT_TYPE, encodeResponse } from "../../src/protocol/index.ts";
import { float32ToFloat16, normalizeInPlace } from "../../src/vector/index.ts";
import type { GpuClient } from "../../workers/services/gpu-client/gpu-client.ts";
import { Inference, type ServedModel } from "../../workers/services/inference.ts";

/**
 * @example const inference = precomputedInference({ id: "m", preprocessingVersion: "p" }, 512);
 * await inference.embedTexts(rows, { deadline }) // one float16 row of 512 per token row
 */
export function precomputedInference(model: ServedModel, dim: number): Inference {
  const frames = new Map<number, Uint8Array>();
  let seed = 1;
  const unitHalves = () => {
    const v = Float32Array.from({ length: dim }, () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647 - 0.5;
    });
    normalizeInPlace(v);
    return float32ToFloat16(v);
  };
  /** The answer frame for `count` texts, made the first time that count is asked for (a warm-up run). */
  const frameFor = (count: number) => {
    let frame = frames.get(count);
    if (!frame) {
      const encoded = encodeResponse(
        {
          dtype: "f16",
          dim,
          modelId: model.id,
          preprocessingVersion: model.preprocessingVersion,
          items: Array.from({ length: count }, () => ({ status: "ok" as const, embedding: unitHalves() })),
        },
        { maxItems: count, maxDim: dim },
      );
      if (!encoded.ok) throw new Error(encoded.message);
      frame = encoded.value;
      frames.set(count, frame);
    }
    return frame;
  };
  // Only `post` is called by Inference; the client's breakers, retries and signing are not part of this measurement.
  const client = {
    post: async (_path: string, body: Uint8Array) => {
      // A request frame's item count: the u32 after its 8-byte prefix (src/protocol/request.ts).
      const count = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(8, true);
      return {
        ok: true as const,
        value: { status: 200, body: frameFor(count), contentType: CONTENT_TYPE, backend: "bench" },
      };
    },
  } as unknown as GpuClient;
  return new Inference(client, model);
}
