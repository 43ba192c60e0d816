import { describe, expect, it } from "vitest";
import { stageBreakdown } from "./gpu-metrics.ts";
import { increaseAcross, parsePrometheus, type Scrape, seriesKey } from "./prometheus.ts";

/** The GPU service's histograms after some work, in prom-client's exposition format. */
function exposition(work: {
  imageBatches: number;
  imageItems: number;
  inferenceSeconds: number;
  scrapes: number;
}) {
  return `# HELP clip_stage_seconds Time per pipeline stage
# TYPE clip_stage_seconds histogram
clip_stage_seconds_bucket{le="0.5",kind="image",stage="inference"} ${work.imageBatches}
clip_stage_seconds_bucket{le="+Inf",kind="image",stage="inference"} ${work.imageBatches}
clip_stage_seconds_sum{kind="image",stage="inference"} ${work.inferenceSeconds}
clip_stage_seconds_count{kind="image",stage="inference"} ${work.imageBatches}
clip_stage_seconds_sum{kind="image",stage="queue_wait"} ${work.imageItems * 0.01}
clip_stage_seconds_count{kind="image",stage="queue_wait"} ${work.imageItems}
clip_batch_size_sum{kind="image"} ${work.imageItems}
clip_batch_size_count{kind="image"} ${work.imageBatches}
clip_queue_depth{kind="image"} 3
clip_http_request_seconds_sum{route="/v1/embed/images"} ${work.inferenceSeconds * 1.5}
clip_http_request_seconds_count{route="/v1/embed/images"} ${work.imageBatches}
clip_http_request_seconds_sum{route="/metrics"} ${work.scrapes * 0.001}
clip_http_request_seconds_count{route="/metrics"} ${work.scrapes}
clip_http_requests_total{route="/metrics",status="200"} ${work.scrapes}
`;
}

describe("the Prometheus text format", () => {
  it("parses series with labels in any order, escapes, infinities and timestamps; skips comments", () => {
    const samples = parsePrometheus(`# HELP x a counter
# TYPE x counter
x_total 3
y_bucket{stage="inference",kind="image",le="+Inf"} 4 1700000000000
z{path="a \\"quoted\\" \\\\ value"} -2.5e-3
broken line
w NaN-ish
`);
    expect(samples.get("x_total")).toBe(3);
    expect(samples.get(seriesKey("y_bucket", { kind: "image", le: "+Inf", stage: "inference" }))).toBe(4);
    expect(samples.get(seriesKey("z", { path: 'a "quoted" \\ value' }))).toBe(-0.0025);
    expect(samples.size).toBe(3);
  });
});

describe("histogram deltas over a run", () => {
  const scrape = (atMs: number, work: Parameters<typeof exposition>[0]): Scrape => ({
    atMs,
    samples: parsePrometheus(exposition(work)),
  });

  it("difference the first and last scrape of one process", () => {
    const increase = increaseAcross([
      scrape(0, { imageBatches: 10, imageItems: 30, inferenceSeconds: 1, scrapes: 5 }),
      scrape(2000, { imageBatches: 14, imageItems: 40, inferenceSeconds: 1.4, scrapes: 6 }),
      scrape(4000, { imageBatches: 30, imageItems: 90, inferenceSeconds: 3, scrapes: 7 }),
    ]);
    expect(increase.processes).toBe(1);
    expect(increase.restarts).toEqual([]);
    expect(increase.delta.get(seriesKey("clip_batch_size_sum", { kind: "image" }))).toBe(60);
    // Gauges are not differenced.
    expect(increase.delta.has(seriesKey("clip_queue_depth", { kind: "image" }))).toBe(false);
    const breakdown = stageBreakdown(increase);
    expect(breakdown.kinds.image).toMatchObject({ items: 60, batches: 20, meanBatchSize: 3 });
    expect(breakdown.kinds.image?.inferenceMsPerBatch).toBeCloseTo(100); // 2 s over 20 batches
    expect(breakdown.kinds.image?.inferenceMsPerItem).toBeCloseTo(2000 / 60);
    expect(breakdown.kinds.image?.queueWaitMsPerItem).toBeCloseTo(10);
    // Only the work routes count as GPU time, not /metrics itself.
    expect(Object.keys(breakdown.routes)).toEqual(["/v1/embed/images"]);
    expect(breakdown.gpuSeconds).toBeCloseTo(3);
    expect(breakdown.gpuRequests).toBe(20);
  });

  it("sum per process across a restart: the new process counted from zero", () => {
    const increase = increaseAcross([
      scrape(0, { imageBatches: 10, imageItems: 30, inferenceSeconds: 1, scrapes: 50 }),
      scrape(2000, { imageBatches: 16, imageItems: 48, inferenceSeconds: 1.6, scrapes: 51 }), // right before the kill
      scrape(6000, { imageBatches: 2, imageItems: 4, inferenceSeconds: 0.3, scrapes: 1 }), // the restarted process
      scrape(8000, { imageBatches: 5, imageItems: 10, inferenceSeconds: 0.6, scrapes: 2 }),
    ]);
    expect(increase.processes).toBe(2);
    expect(increase.restarts).toEqual([{ lastOldMs: 2000, firstNewMs: 6000 }]);
    // 6 batches in the old process, 5 in the new one; not 5 - 16.
    expect(increase.delta.get(seriesKey("clip_batch_size_count", { kind: "image" }))).toBe(11);
    expect(increase.delta.get(seriesKey("clip_batch_size_sum", { kind: "image" }))).toBe(18 + 10);
    expect(stageBreakdown(increase).kinds.image?.inferenceMsPerBatch).toBeCloseTo(((0.6 + 0.6) / 11) * 1000);
  });

  it("see a restart in a fresh process's first scrape, before it has any series of its own", () => {
    const increase = increaseAcross([
      scrape(0, { imageBatches: 10, imageItems: 30, inferenceSeconds: 1, scrapes: 5 }),
      scrape(2000, { imageBatches: 16, imageItems: 48, inferenceSeconds: 1.6, scrapes: 6 }),
      { atMs: 4000, samples: parsePrometheus("# nothing observed yet\n") },
      scrape(6000, { imageBatches: 2, imageItems: 4, inferenceSeconds: 0.3, scrapes: 1 }),
    ]);
    expect(increase.restarts).toEqual([{ lastOldMs: 2000, firstNewMs: 4000 }]);
    expect(increase.delta.get(seriesKey("clip_batch_size_count", { kind: "image" }))).toBe(6 + 2);
  });

  it("count a series that first appears mid-run from zero, and need two scrapes for any delta", () => {
    const before: Scrape = { atMs: 0, samples: parsePrometheus("a_total 5") };
    const after: Scrape = { atMs: 1, samples: parsePrometheus('a_total 7\nb_total{route="/v1/captions"} 4') };
    const increase = increaseAcross([before, after]);
    expect(increase.delta.get("a_total")).toBe(2);
    expect(increase.delta.get('b_total{route="/v1/captions"}')).toBe(4);
    expect(increaseAcross([before]).delta.size).toBe(0);
    expect(increaseAcross([]).processes).toBe(0);
  });
});
