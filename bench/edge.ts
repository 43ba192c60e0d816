// npm run bench:edge — the edge's own CPU cost per /v1/classify (tokenize, cache look-ups, GPU frames built and
// read, ensemble, similarities, JSON, KV writes; the GPU tier's own work excluded), the KV operations beside it, and
// requests/s end to end through the local stack against calling the GPU service directly with the same images.
// Not a test: prints tables, the goals of issue 15 §3 last with each measured value and whether it is met.
//
// The CPU part runs the Worker's own code in Node (the V8 workerd embeds) over an in-memory KV and measures process
// CPU time, in rounds, reporting the range (and median) over rounds: the machine may be shared. Two sizes: the
// embedded model (its 1,546-token vocabulary, 128-d) and real size (OpenAI's 49,408-token CLIP vocabulary, which the
// ViT-B/32 stand-in uses, from ../shared/clip, and 512-d). The end-to-end part runs the real Worker in workerd
// (Miniflare) and a real GPU service process on the embedded model, side by side, in alternating rounds.
//
// Options: --rounds 5 (CPU), --e2eRounds 3, --seconds 6 (per e2e side and round), --skipStack.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { ALL_PAIRS, renderShapeSample } from "../shapes-world/index.ts";
import { DEFAULT_TEMPLATES } from "../src/api/index.ts";
import { decodeBase64 } from "../src/encoding/base64.ts";
import {
  ClipTokenizer,
  decodeCompactVocabulary,
  encodeCompactVocabulary,
  parseMerges,
  vocabularyFromMerges,
} from "../src/tokenizer/index.ts";
import { normalizeInPlace } from "../src/vector/index.ts";
import { startEdgeStack } from "../test/support/edge-stack.ts";
import { frame, signedPost } from "../test/support/gpu-service.ts";
import { COMPACT_VOCABULARY_BASE64, EDGE_MODEL } from "../workers/generated/model.gen.ts";
import { rankLabels } from "../workers/services/rank-labels.ts";
import { CacheWrites, KV_WRITES_PER_REQUEST } from "../workers/services/text-embeddings/cache-writes.ts";
import {
  type TextCacheStore,
  TextEmbeddingService,
} from "../workers/services/text-embeddings/text-embedding-service.ts";
import { describeMachine } from "./support/machine.ts";
import { precomputedInference } from "./support/precomputed-gpu.ts";
import { cpuMsOf, descendantsNamed, processCpuAvailable } from "./support/process-cpu.ts";
import { throughput } from "./support/throughput.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "6" },
    rounds: { type: "string", default: "5" },
    e2eRounds: { type: "string", default: "3" },
    skipStack: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const e2eRounds = Number(values.e2eRounds);
const cpuModel = describeMachine();

/** Milliseconds over rounds: the range, and the median the goals are judged on. */
interface Spread {
  min: number;
  median: number;
  max: number;
}
const spreadOf = (samples: number[]): Spread => {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    min: sorted[0] as number,
    median: sorted[Math.floor(sorted.length / 2)] as number,
    max: sorted.at(-1) as number,
  };
};
const shown = (s: Spread, digits: number) =>
  `${s.min.toFixed(digits)}–${s.max.toFixed(digits)} (${s.median.toFixed(digits)})`;

/**
 * KV's text interface over a Map, counting its operations: the bench measures our CPU, not KV's latency. With
 * `keep: false` writes are counted and dropped, as far as the isolate is concerned they are: a Worker hands the value
 * to KV, while this process would hoard every one (1.4 KB a label at 512-d) and pay for it in garbage collection.
 */
function memoryKv({ keep }: { keep: boolean }): TextCacheStore & {
  counts: { reads: number; keysRead: number; writes: number };
} {
  const store = new Map<string, string>();
  const counts = { reads: 0, keysRead: 0, writes: 0 };
  return {
    counts,
    get: async (keys: string[]) => {
      counts.reads++;
      counts.keysRead += keys.length;
      return new Map(keys.map((k) => [k, store.get(k) ?? null]));
    },
    put: async (key: string, value: string) => {
      counts.writes++;
      if (keep) store.set(key, value);
    },
  };
}

/** One model size the CPU part measures: its tokenizer and the GPU tier's answers at its dimension. */
interface Size {
  name: string;
  dim: number;
  tokenizer: ClipTokenizer;
  inference: ReturnType<typeof precomputedInference>;
}

const model = { id: EDGE_MODEL.id, preprocessingVersion: EDGE_MODEL.preprocessing.version };
const embedded: Size = {
  name: `embedded (${EDGE_MODEL.vocabulary.size.toLocaleString("en")} tokens, ${EDGE_MODEL.embeddingDim}-d)`,
  dim: EDGE_MODEL.embeddingDim,
  tokenizer: new ClipTokenizer(
    decodeCompactVocabulary(decodeBase64(COMPACT_VOCABULARY_BASE64) as Uint8Array),
  ),
  inference: precomputedInference(model, EDGE_MODEL.embeddingDim),
};
const OPENAI_BPE = new URL("../../shared/clip/bpe_simple_vocab_16e6.txt.gz", import.meta.url);
/** Real size: OpenAI's vocabulary through the compact form the Worker bundles, as a real-size edge would load it. */
const realSize: Size | undefined = existsSync(OPENAI_BPE)
  ? {
      name: "real size (49,408 tokens, 512-d)",
      dim: 512,
      tokenizer: new ClipTokenizer(
        decodeCompactVocabulary(
          encodeCompactVocabulary(
            vocabularyFromMerges(parseMerges(gunzipSync(readFileSync(OPENAI_BPE)).toString("utf8"))),
          ),
        ),
      ),
      inference: precomputedInference(model, 512),
    }
  : undefined;
const sizes = [embedded, ...(realSize ? [realSize] : [])];

/** The edge's text service as one isolate builds it, over `kv`, with the GPU tier's answers precomputed. */
function textService(size: Size, kv: TextCacheStore): TextEmbeddingService {
  return new TextEmbeddingService({
    encoder: size.inference,
    computeDeadlineMs: 30_000,
    tokenizer: size.tokenizer,
    modelId: EDGE_MODEL.id,
    vocabularyHash: "bench",
    embeddingDim: size.dim,
    contextLength: 77,
    kv,
    kvTtlSeconds: 60,
    lruSize: 5_000, // TEXT_LRU_SIZE's default
  });
}

/** `count` labels none of which any earlier call gave (`take` tells them apart), of common words. */
const labelsOf = (count: number, take: number) =>
  Array.from(
    { length: count },
    (_, i) => `${ALL_PAIRS[i % 32]?.colour} ${ALL_PAIRS[i % 32]?.shape} number ${i} take ${take}`,
  );
let takes = 0;

/**
 * CPU ms per request, per round. Cold: labels never seen before (in no LRU, not in KV), so every one is tokenized,
 * hashed, computed, ensembled and written — in one long-lived isolate, as in production: its JIT, tokenizer word
 * cache and tokenized templates are warm, its LRUs as large as the default (5,000). Warm: the same request again
 * (its LRU answers). The request bodies are made before timing: making them is the client's work.
 */
async function edgeCpuMs(size: Size, labelCount: number, warm: boolean): Promise<number[]> {
  const unit = Float32Array.from({ length: size.dim }, (_, i) => Math.sin(i + 1));
  normalizeInPlace(unit);
  const image = { ok: true as const, embedding: unit };
  const texts = textService(size, memoryKv({ keep: false }));
  const once = async (body: string) => {
    const parsed = JSON.parse(body) as { labels: string[] };
    // Cache writes run after the answer, as in the Worker; their CPU is counted too.
    const cacheWrites = new CacheWrites(KV_WRITES_PER_REQUEST, () => {});
    const embedded = await texts.embedLabels(parsed.labels, DEFAULT_TEMPLATES, {
      budget: { deadline: Date.now() + 30_000 },
      waitUntil: () => {},
      cacheWrites,
    });
    if (!embedded.ok) throw new Error(embedded.failure.message);
    await cacheWrites.start();
    return JSON.stringify(
      rankLabels(image, parsed.labels, 5, embedded.value.embeddings, EDGE_MODEL.logitScale),
    );
  };
  const bodyOf = (take: number) =>
    JSON.stringify({ images: [{ url: "https://x.test/a.jpg" }], labels: labelsOf(labelCount, take) });
  const runs = warm ? 200 : Math.max(3, Math.round(2000 / labelCount));
  const same = bodyOf(takes++);
  const bodies = () => Array.from({ length: runs }, () => (warm ? same : bodyOf(takes++)));
  for (const body of bodies()) await once(body);
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const batch = bodies();
    const start = process.cpuUsage();
    for (const body of batch) await once(body);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / 1000 / runs);
  }
  return samples;
}

/**
 * KV operations of one /v1/classify request with `labelCount` new labels and the default templates: in a cold
 * deployment (nothing cached anywhere), then the same request in another isolate (KV has it, the isolate's LRU does
 * not), then again in that isolate (the LRU answers). Bulk reads are counted as calls and as keys.
 */
async function kvOperations(labelCount: number) {
  const kv = memoryKv({ keep: true });
  const labels = Array.from({ length: labelCount }, (_, i) => `kv label ${i}`);
  const isolate = () => textService(embedded, kv);
  const request = async (texts: TextEmbeddingService) => {
    const before = { ...kv.counts };
    const cacheWrites = new CacheWrites(KV_WRITES_PER_REQUEST, () => {});
    const result = await texts.embedLabels(labels, DEFAULT_TEMPLATES, {
      budget: { deadline: Date.now() + 30_000 },
      waitUntil: () => {},
      cacheWrites,
    });
    if (!result.ok) throw new Error(result.failure.message);
    await cacheWrites.start();
    const n = kv.counts;
    return `${n.reads - before.reads} / ${n.keysRead - before.keysRead} / ${n.writes - before.writes}`;
  };
  const cold = await request(isolate());
  const other = isolate();
  return { cold, kvWarm: await request(other), lruWarm: await request(other) };
}

console.log(
  `Edge benchmark — ${cpuModel}, Node ${process.version} (V8 ${process.versions.v8}), ${DEFAULT_TEMPLATES.length} default templates, ${rounds} rounds${realSize ? "" : " — real size skipped: ../shared/clip/bpe_simple_vocab_16e6.txt.gz is missing"}\n`,
);
console.log(
  "Edge CPU per /v1/classify request, N new labels (ms: range over rounds, median in brackets), and its KV operations (bulk reads: calls / keys / writes):\n",
);
const cpu = new Map<string, Spread>();
const header = sizes.flatMap((s) => [`cold, ${s.name}`, `warm, ${s.name}`]);
console.log(
  `| labels | ${header.join(" | ")} | KV cold: reads / keys / writes | KV warm, new isolate | isolate warm |`,
);
console.log(`|---|${header.map(() => "---|").join("")}---|---|---|`);
for (const n of [10, 100, 1000]) {
  const cells: string[] = [];
  for (const size of sizes) {
    const cold = spreadOf(await edgeCpuMs(size, n, false));
    const warm = spreadOf(await edgeCpuMs(size, n, true));
    cpu.set(`${size.dim}:${n}:cold`, cold);
    cpu.set(`${size.dim}:${n}:warm`, warm);
    cells.push(shown(cold, 2), shown(warm, 3));
  }
  const kv = await kvOperations(n);
  console.log(`| ${n} | ${cells.join(" | ")} | ${kv.cold} | ${kv.kvWarm} | ${kv.lruWarm} |`);
}

/**
 * Classify with a saved label set: the edge scores every image against every label itself (rankLabels, as for
 * inline labels), so its CPU grows with images × labels × dimension. Measured at the real model's 512-d.
 */
function labelSetScoringMs(images: number, labelCount: number, d: number): number {
  const unit = (n: number) => {
    const v = Float32Array.from({ length: n }, () => Math.random() - 0.5);
    normalizeInPlace(v);
    return v;
  };
  const rows = Array.from({ length: labelCount }, () => unit(d));
  const names = rows.map((_, i) => `label ${i}`);
  const items = Array.from({ length: images }, () => ({ ok: true as const, embedding: unit(d) }));
  for (const item of items) rankLabels(item, names, 5, rows, EDGE_MODEL.logitScale); // warm the JIT
  const runs = 5;
  const start = process.cpuUsage();
  for (let r = 0; r < runs; r++)
    for (const item of items) rankLabels(item, names, 5, rows, EDGE_MODEL.logitScale);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / runs;
}

console.log("\nEdge CPU to score a classify request against a saved label set (rankLabels, 512-d):\n");
console.log("| images × labels | multiply-adds | ms | ns per image × label |");
console.log("|---|---|---|---|");
for (const [images, labelCount] of [
  [1, 300],
  [16, 300],
  [16, 2000],
] as const) {
  const ms = labelSetScoringMs(images, labelCount, 512);
  console.log(
    `| ${images} × ${labelCount} | ${(images * labelCount * 512).toLocaleString("en")} | ${ms.toFixed(2)} | ${((ms * 1e6) / (images * labelCount)).toFixed(0)} |`,
  );
}

interface SideResult {
  rate: number;
  /** CPU ms per request: workerd (the Worker, its Durable Object and Miniflare's own workers), the GPU service, and
   * this process (the clients, and Miniflare's host side). Undefined without /proc. */
  cpu?: { workerd: number; gpu: number; bench: number };
}

/**
 * Rounds of edge versus direct, each side `seconds` long with 8 clients, the order alternating; per round the
 * requests/s of each, where their CPU went, and the edge's overhead.
 */
async function endToEnd(): Promise<{ rows: string[]; overheads: number[] }> {
  // A plan without practical limits: the bench measures throughput, not the pro plan's 50 requests/s.
  const unlimited = {
    requests_per_second: 1e6,
    burst: 1e6,
    monthly_quota: { images: 1e12, texts: 1e12 },
    prices_micros: { request: 0, image: 0, text_computed: 0, text_cached: 0 },
  };
  const stack = await startEdgeStack({ BILLING_PLANS: JSON.stringify({ free: unlimited, pro: unlimited }) });
  try {
    const renders = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        renderShapeSample(0xed6e, i, { pairs: "all", shortSide: [400, 800] }),
      ),
    );
    const labels = ALL_PAIRS.map((p) => `${p.colour} ${p.shape}`);
    // Bodies made once: the clients' own encoding is not what either side is measured on.
    const edgeBodies = renders.map((r) =>
      JSON.stringify({ images: [{ base64: Buffer.from(r.bytes).toString("base64") }], labels, top_k: 3 }),
    );
    const gpuBodies = renders.map((r) => frame({ kind: "images", dtype: "f32", images: [r.bytes] }));
    const viaEdge = (i: number) =>
      fetch(`${stack.edgeUrl}/v1/classify`, {
        method: "POST",
        headers: { "content-type": "application/json", ...stack.apiHeaders },
        body: edgeBodies[i % 16],
      });
    const direct = (i: number) =>
      signedPost(`${stack.gpu.url}/v1/embed/images`, gpuBodies[i % 16] as Uint8Array);
    const workerd = processCpuAvailable ? descendantsNamed(process.pid, "workerd") : [];
    const gpuPid = stack.gpu.child.pid;
    const side = async (work: (i: number) => Promise<Response>): Promise<SideResult> => {
      const cpuNow = () =>
        processCpuAvailable && gpuPid !== undefined
          ? {
              workerd: workerd.reduce((sum, pid) => sum + cpuMsOf(pid), 0),
              gpu: cpuMsOf(gpuPid),
              bench: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
            }
          : undefined;
      const before = cpuNow();
      let done = 0;
      const rate = await throughput(seconds, 8, 1, async (i) => {
        const response = await work(i);
        if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
        await response.arrayBuffer();
        done++;
      });
      const after = cpuNow();
      if (!before || !after) return { rate };
      const per = (key: keyof typeof before) => (after[key] - before[key]) / done;
      return { rate, cpu: { workerd: per("workerd"), gpu: per("gpu"), bench: per("bench") } };
    };
    await throughput(2, 4, 1, async (i) => (await viaEdge(i)).arrayBuffer()); // fills the label cache, warms both
    await throughput(2, 4, 1, async (i) => (await direct(i)).arrayBuffer());
    const rows: string[] = [];
    const overheads: number[] = [];
    const cells = (r: SideResult) =>
      `${r.rate.toFixed(1)} | ${r.cpu ? `${r.cpu.workerd.toFixed(1)} / ${r.cpu.gpu.toFixed(1)} / ${r.cpu.bench.toFixed(1)}` : "–"}`;
    for (let round = 0; round < e2eRounds; round++) {
      let edge: SideResult;
      let gpu: SideResult;
      if (round % 2 === 0) {
        edge = await side(viaEdge);
        gpu = await side(direct);
      } else {
        gpu = await side(direct);
        edge = await side(viaEdge);
      }
      const overhead = (1 - edge.rate / gpu.rate) * 100;
      overheads.push(overhead);
      rows.push(`| ${round + 1} | ${cells(edge)} | ${cells(gpu)} | ${overhead.toFixed(1)}% |`);
    }
    return { rows, overheads };
  } finally {
    await stack.stop();
  }
}

let overhead: Spread | undefined;
if (!values.skipStack) {
  console.log(
    `\nEnd to end on the embedded model (${cpuModel}; the GPU service, workerd and the clients share them): single-image classify with 32 labels (cached) through the edge, against the same images straight to the GPU service's /v1/embed/images; 8 concurrent clients, ${seconds} s a side per round, the order alternating. CPU per request in ms: workerd (the Worker, its key meter Durable Object, Miniflare's entry and routing workers, KV/D1/Queues simulators) / GPU service / bench process (the clients and Miniflare's host):\n`,
  );
  const e2e = await endToEnd();
  console.log(
    "| round | through the edge: requests/s | its CPU per request | straight to the GPU service: requests/s | its CPU per request | edge overhead |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const row of e2e.rows) console.log(row);
  overhead = spreadOf(e2e.overheads);
}

/** The goals of issue 15 §3, each with its measured value (median of rounds, range beside) and the ratio to it. */
console.log(`\nGoals (issue 15 §3) — ${cpuModel}; met when the median is within the goal:\n`);
console.log("| goal | target | measured: range (median) | median / target | verdict |");
console.log("|---|---|---|---|---|");
const goal = (name: string, target: number, unit: string, measured: Spread | undefined, digits: number) => {
  if (!measured) return console.log(`| ${name} | ≤ ${target} ${unit} | not measured | – | – |`);
  const ratio = measured.median / target;
  console.log(
    `| ${name} | ≤ ${target} ${unit} | ${shown(measured, digits)} ${unit} | ${ratio.toFixed(2)} | ${ratio <= 1 ? "met" : "missed"}${ratio <= 1 && measured.max > target ? " (not every round)" : ""} |`,
  );
};
for (const size of [...sizes].reverse()) {
  goal(`cold, 100 new labels, ${size.name}`, 10, "ms", cpu.get(`${size.dim}:100:cold`), 2);
  goal(`cold, 1,000 new labels, ${size.name}`, 100, "ms", cpu.get(`${size.dim}:1000:cold`), 1);
  goal(`warm, 100 labels, ${size.name}`, 0.3, "ms", cpu.get(`${size.dim}:100:warm`), 3);
}
goal("edge overhead end to end, embedded model", 10, "%", overhead, 1);
