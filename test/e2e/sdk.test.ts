// The TypeScript SDK (sdk/typescript) against the real local stack: the GPU service process, the Worker in workerd,
// its Postgres. Every operation group through the client; retries on a 503 from a stopped GPU tier and on a 429
// from a low-limit key; the Idempotency-Key reused across retries (the server replays the stored answer); the
// deadline, abort and error typing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClipEdge, ClipEdgeError } from "../../sdk/typescript/src/index.ts";
import { DEFAULT_PLANS } from "../../src/billing/index.ts";
import { createApiKey } from "../../tools/keys/admin-client.ts";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { startGpuProcess } from "../support/gpu-process.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { renderTestShapes, type TestShape } from "../support/shapes.ts";
import { measureDownsizing, summarise } from "../support/upload-downsizing.ts";

const LABELS = ["red circle", "blue star", "yellow square", "green triangle"];
/** Two requests, then one every 2 s: a 429 with a short Retry-After. */
const TRICKLE = { ...DEFAULT_PLANS.free, requests_per_second: 0.5, burst: 2 };

/** A fetch that records each request's method, path and Idempotency-Key before sending it for real. */
function recordingFetch(log: { method: string; path: string; key: string | null }[]): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    log.push({
      method: init?.method ?? "GET",
      path: new URL(String(input)).pathname,
      key: headers.get("idempotency-key"),
    });
    return fetch(input, init);
  };
}

describe.skipIf(!modelPresent())("@clip-edge/client against the local stack", () => {
  let stack: EdgeStack;
  let apiKey: string;
  let clip: ClipEdge;
  let shapes: Map<string, TestShape>;
  const bytesOf = (label: string) => Uint8Array.from(Buffer.from(shapes.get(label)?.base64 ?? "", "base64"));

  beforeAll(async () => {
    stack = await startEdgeStack(
      {
        BILLING_PLANS: JSON.stringify({ ...DEFAULT_PLANS, trickle: TRICKLE }),
        GPU_CIRCUIT_COOLDOWN_MS: "500",
      },
      { postgres: true },
    );
    apiKey = stack.apiHeaders.authorization?.replace("Bearer ", "") ?? "";
    clip = new ClipEdge({ apiKey, baseUrl: stack.edgeUrl });
    shapes = new Map((await renderTestShapes()).map((s) => [s.label, s]));
  }, 180_000);
  afterAll(() => stack?.stop());

  describe("every operation group", () => {
    it("lists the model with its recommended upload size", async () => {
      const [model] = (await clip.listModels()).data;
      expect(model?.recommended_upload).toEqual({
        min_short_side: (model?.image_size ?? 0) * 2,
        format: "jpeg",
      });
      expect((await clip.health()).status).toBe("ok");
      expect((await clip.getUsage()).object).toBe("usage");
    });

    it("classifies a Blob (sent as multipart) and a base64 string (sent as JSON) alike", async () => {
      const blob = new Blob([bytesOf("red circle")], { type: "image/jpeg" });
      const multipart = await clip.classify({ image: blob, labels: LABELS });
      expect(multipart.results[0]?.labels[0]?.label).toBe("red circle");
      const json = await clip.classify({
        images: [shapes.get("blue star")?.base64 ?? ""],
        labels: LABELS,
        top_k: 2,
      });
      expect(json.results[0]?.labels.map((l) => l.label)).toHaveLength(2);
      expect(json.results[0]?.labels[0]?.label).toBe("blue star");
    });

    it("captions bytes, embeds texts and images, ranks and explains", async () => {
      const captions = await clip.caption({ image: bytesOf("red circle"), top_k: 3 });
      expect(captions.results[0]?.captions).toHaveLength(3);
      expect(captions.results[0]?.captions[0]?.text).toMatch(/red/);

      const [model] = (await clip.listModels()).data;
      const embeddings = await clip.createEmbeddings({
        input: ["a red circle", { image: bytesOf("red circle") }],
      });
      expect(embeddings.data.map((d) => (d.embedding as number[]).length)).toEqual([
        model?.embedding_dim,
        model?.embedding_dim,
      ]);

      const ranked = await clip.rank({
        query: { text: "red circle" },
        candidates: [
          { id: "star", image: bytesOf("blue star") },
          { id: "circle", image: new Blob([bytesOf("red circle")]) },
        ],
      });
      expect(ranked.results[0]?.id).toBe("circle");

      const explained = await clip.explain({ image: bytesOf("red circle"), labels: ["red circle"], grid: 4 });
      expect(explained.results[0]?.grid).toMatchObject({ rows: 4, cols: 4 });
    });

    it("stores, searches, reads and deletes a collection's items", async () => {
      await clip.putCollection("sdk-photos");
      const upserted = await clip.upsertItems("sdk-photos", {
        items: [
          { id: "red", image: bytesOf("red circle"), metadata: { colour: "red" } },
          { id: "blue", image: new Blob([bytesOf("blue star")]), metadata: { colour: "blue" } },
        ],
      });
      expect(upserted.results.map((r) => ("status" in r ? r.status : r.error.code))).toEqual([
        "upserted",
        "upserted",
      ]);
      const found = await clip.queryCollection("sdk-photos", { text: "a red circle", top_k: 1 });
      expect(found.matches[0]?.id).toBe("red");
      const byImage = await clip.queryCollection("sdk-photos", { image: bytesOf("blue star"), top_k: 1 });
      expect(byImage.matches[0]?.id).toBe("blue");
      expect((await clip.getItem("sdk-photos", "red")).metadata).toEqual({ colour: "red" });
      expect((await clip.listItems("sdk-photos")).data.map((i) => i.id).sort()).toEqual(["blue", "red"]);
      expect((await clip.listCollections()).data.map((c) => c.name)).toContain("sdk-photos");
      await clip.deleteItems("sdk-photos", { ids: ["nothing-here"] });
      await clip.deleteItem("sdk-photos", "red");
      expect((await clip.listItems("sdk-photos")).data.map((i) => i.id)).toEqual(["blue"]);
      await clip.deleteCollection("sdk-photos");
      await expect(clip.getCollection("sdk-photos")).rejects.toMatchObject({ code: "collection_not_found" });
    });

    it("creates, lists and deletes label sets and moderation policies; moderates an image", async () => {
      const created = await clip.createLabelSet({ name: "sdk-shapes", labels: LABELS });
      expect((await clip.listLabelSets()).data.map((s) => s.id)).toContain(created.id);
      expect((await clip.getLabelSet(created.id)).name).toBe("sdk-shapes");
      await clip.deleteLabelSet(created.id);
      await expect(clip.getLabelSet(created.id)).rejects.toMatchObject({
        code: "label_set_not_found",
        status: 404,
      });

      const policy = await clip.createModerationPolicy({
        name: "sdk-policy",
        categories: [{ name: "red", concepts: ["a red circle"] }],
      });
      expect((await clip.listModerationPolicies()).data.map((p) => p.id)).toContain(policy.id);
      const moderated = await clip.createModeration({
        input: [{ image: bytesOf("red circle") }],
        policy: policy.id,
      });
      expect(Object.keys(moderated.results[0]?.category_scores ?? {})).toEqual(["red"]);

      // Labelled examples, an image among them as bytes; too few to calibrate, which comes back typed.
      const added = await clip.addModerationExamples(policy.id, {
        examples: [
          { image: bytesOf("red circle"), categories: ["red"] },
          { text: "three blue stars", categories: [] },
        ],
      });
      expect(added).toMatchObject({ added: 2, total: 2 });
      expect((await clip.countModerationExamples(policy.id)).total).toBe(2);
      await expect(clip.calibrateModerationPolicy(policy.id)).rejects.toMatchObject({
        code: "not_enough_examples",
        status: 409,
      });
      await clip.deleteModerationExamples(policy.id);
      expect((await clip.countModerationExamples(policy.id)).total).toBe(0);
      await clip.deleteModerationPolicy(policy.id);
      await expect(clip.getModerationPolicy(policy.id)).rejects.toMatchObject({ code: "policy_not_found" });
    });
  });

  it("downsizing a fresh 2000 × 1500 photo by the SDK's rule keeps its embedding (cosine ≥ 0.99) for far fewer bytes", async () => {
    const summary = summarise(await measureDownsizing(clip, 6));
    expect(summary.meanCosine).toBeGreaterThanOrEqual(0.99);
    expect(summary.minCosine).toBeGreaterThanOrEqual(0.98);
    expect(summary.bytesSaved).toBeGreaterThan(0.5);
  });

  describe("errors", () => {
    it("types a bad input's problem: code, status, request id from the answer", async () => {
      let seenId: string | null = null;
      const error = await clip
        .classify(
          { image: new TextEncoder().encode("not an image at all"), labels: LABELS },
          { onResponse: ({ headers }) => (seenId = headers.get("x-request-id")) },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClipEdgeError);
      expect(error).toMatchObject({ code: "not_an_image", status: 400 });
      expect((error as ClipEdgeError).requestId).toBe(seenId);
      expect(seenId).toBeTruthy();
    });

    it("types a bad key's 401 and does not retry it", async () => {
      const log: Parameters<typeof recordingFetch>[0] = [];
      const bad = new ClipEdge({
        apiKey: "clip_live_nope",
        baseUrl: stack.edgeUrl,
        fetch: recordingFetch(log),
      });
      await expect(bad.listModels()).rejects.toMatchObject({ status: 401 });
      expect(log).toHaveLength(1);
    });

    it("ends at its deadline with `timeout`, on abort with `aborted`, and sends nothing for a signal already aborted", async () => {
      await expect(
        clip.classify({ image: bytesOf("red circle"), labels: ["a label never seen"] }, { timeoutMs: 1 }),
      ).rejects.toMatchObject({ code: "timeout", status: 0 });

      const controller = new AbortController();
      const pending = clip.classify(
        { image: bytesOf("red circle"), labels: ["another new label"] },
        { signal: controller.signal },
      );
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: "aborted" });

      const log: Parameters<typeof recordingFetch>[0] = [];
      const counted = new ClipEdge({ apiKey, baseUrl: stack.edgeUrl, fetch: recordingFetch(log) });
      await expect(counted.listModels({ signal: AbortSignal.abort() })).rejects.toMatchObject({
        code: "aborted",
      });
      expect(log).toHaveLength(0);
    });
  });

  describe("retries", () => {
    it("replays the stored answer when a response was lost: the retry reuses the Idempotency-Key", async () => {
      const log: Parameters<typeof recordingFetch>[0] = [];
      const record = recordingFetch(log);
      let lost = false;
      // The first answer reaches the server's idempotency store, then "the network" drops it on the way back.
      const lossy: typeof fetch = async (input, init) => {
        const response = await record(input, init);
        if (!lost) {
          lost = true;
          await response.arrayBuffer();
          throw new TypeError("network connection lost");
        }
        return response;
      };
      const client = new ClipEdge({ apiKey, baseUrl: stack.edgeUrl, fetch: lossy, retryBaseDelayMs: 50 });
      const replayed: (string | null)[] = [];
      const errors: string[] = [];
      const answer = await client.classify(
        { image: bytesOf("yellow square"), labels: LABELS },
        {
          onResponse: ({ headers }) => replayed.push(headers.get("idempotent-replayed")),
          onRetry: ({ error }) => errors.push(error.code),
        },
      );
      expect(answer.results[0]?.labels[0]?.label).toBe("yellow square");
      // A retry that outruns the server's storing of the first answer gets 409 idempotency_in_progress, retried too.
      expect(errors[0]).toBe("network_error");
      expect(errors.slice(1).every((code) => code === "idempotency_in_progress")).toBe(true);
      expect(log).toHaveLength(errors.length + 1);
      expect(new Set(log.map((l) => l.key)).size).toBe(1);
      expect(log[0]?.key).toMatch(/^sdk_/);
      expect(log[1]?.key).toBe(log[0]?.key);
      expect(replayed.at(-1)).toBe("true");
    });

    it("gives every POST its own key", async () => {
      const log: Parameters<typeof recordingFetch>[0] = [];
      const client = new ClipEdge({ apiKey, baseUrl: stack.edgeUrl, fetch: recordingFetch(log) });
      await client.createEmbeddings({ input: ["one"] });
      await client.createEmbeddings({ input: ["two"] });
      expect(new Set(log.map((l) => l.key)).size).toBe(2);
    });

    it("honours Retry-After on a 429 from a low-limit key, typed when it does not retry", async () => {
      const { key } = await createApiKey(
        { url: stack.edgeUrl, adminToken: stack.adminHeaders.authorization?.replace("Bearer ", "") ?? "" },
        { name: "sdk-trickle", plan: "trickle" },
      );
      const limited = new ClipEdge({ apiKey: key, baseUrl: stack.edgeUrl });
      await limited.listModels();
      await limited.listModels();
      const refused = await limited.listModels({ maxRetries: 0 }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: "rate_limited", status: 429 });
      expect((refused as ClipEdgeError).retryAfter).toBeGreaterThanOrEqual(1);

      const waits: { delayMs: number; retryAfter: number | undefined }[] = [];
      const answer = await limited.listModels({
        onRetry: ({ delayMs, error }) => waits.push({ delayMs, retryAfter: error.retryAfter }),
      });
      expect(answer.data).toHaveLength(1);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      for (const wait of waits) expect(wait.delayMs).toBeGreaterThanOrEqual((wait.retryAfter ?? 0) * 1000);
    });

    it("retries a 503 from a stopped GPU tier until it is back, with one Idempotency-Key throughout", async () => {
      const port = new URL(stack.gpu.url).port;
      await stack.gpu.stop();
      const log: Parameters<typeof recordingFetch>[0] = [];
      const client = new ClipEdge({
        apiKey,
        baseUrl: stack.edgeUrl,
        fetch: recordingFetch(log),
        maxRetries: 30,
        retryBaseDelayMs: 200,
        maxRetryDelayMs: 5_000,
      });
      const errors: ClipEdgeError[] = [];
      let restart: Promise<void> | undefined;
      const answer = await client.createEmbeddings(
        { input: [{ image: bytesOf("green triangle") }] },
        {
          timeoutMs: 120_000,
          // The tier comes back only once the SDK has seen it down, so the first answer is surely the 503.
          onRetry: ({ error }) => {
            errors.push(error);
            restart ??= startGpuProcess({ PORT: port }).then((gpu) => {
              stack.gpu = gpu;
            });
          },
        },
      );
      await restart;
      expect(answer.data).toHaveLength(1);
      expect(errors[0]).toMatchObject({ status: 503, code: "gpu_unavailable" });
      expect(new Set(log.map((l) => l.key)).size).toBe(1);
      expect(log.length).toBe(errors.length + 1);
    });
  });
});
