import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../../test/support/edge-stack.ts";
import { modelPresent, TEST_SECRET } from "../../test/support/gpu-service.ts";
import { parseMix, type SoakOptions } from "./args.ts";
import { renderReport } from "./report.ts";
import type { SoakResult } from "./result.ts";
import { runSoak } from "./run.ts";

const ADMIN_TOKEN = "admin-token-of-the-soak-test-0123456789abcdef";

// A tight rate limit, so a few clients are refused with 429 + Retry-After and must retry with the same key.
const TIGHT = {
  requests_per_second: 2,
  burst: 2,
  monthly_quota: { images: 1_000_000, texts: 10_000_000 },
  prices_micros: { request: 1, image: 400, text_computed: 20, text_cached: 5 },
};

// Room enough that the open-loop run's bad requests are judged on their content, not refused by the rate limit.
const ROOMY = { ...TIGHT, requests_per_second: 200, burst: 400 };

/** The harness's core against the real Worker in workerd and a real GPU process, as `npm start` runs them. */
describe.skipIf(!modelPresent())("the soak harness against the real stack", () => {
  let stack: EdgeStack;
  let result: SoakResult;
  let open: SoakResult;

  beforeAll(async () => {
    stack = await startEdgeStack({
      ADMIN_TOKEN,
      BILLING_PLANS: JSON.stringify({ free: TIGHT, pro: TIGHT, roomy: ROOMY }),
    });
    const options: SoakOptions = {
      url: stack.edgeUrl,
      adminToken: ADMIN_TOKEN,
      clients: 3,
      seconds: 4,
      arrivals: "poisson",
      maxInFlight: 512,
      calibrateSeconds: 20,
      deadlineMs: 30_000,
      mix: parseMix("classify,embeddings,captions"),
      retries: 3,
      timeoutSeconds: 35,
      settleSeconds: 60,
      plan: "pro",
      seed: 7,
      gpuUrl: stack.gpu.url,
      gpuSecret: TEST_SECRET,
      stateFile: join(mkdtempSync(join(tmpdir(), "soak-")), "no-local-stack.json"),
    };
    result = await runSoak(options);
    // Then a short open-loop run at twice what a 2 s calibration served, a third of it bad input.
    open = await runSoak({
      ...options,
      clients: 2,
      seconds: 3,
      rate: { timesServed: 2 },
      calibrateSeconds: 2,
      arrivals: "even",
      mix: parseMix("classify,embeddings,captions,bad:1.5"),
      plan: "roomy",
      seed: 11,
    });
  }, 300_000);
  afterAll(() => stack?.stop());

  it("reconciles billing exactly: every 2xx answer has its one D1 record, and the meter agrees", () => {
    expect(result.failures).toEqual([]);
    const r = result.reconciliation;
    expect(r.ok).toBe(true);
    expect(r.client.requests).toBeGreaterThan(0);
    expect(r.records.matched).toBe(r.client.requests);
    expect(r.exportRecords.records).toBe(r.client.requests);
    const { requests, images, texts_computed, texts_cached } = r.meter;
    expect({ requests, images, texts_computed, texts_cached }).toEqual(r.client);
    expect(r.meter.cost_micros).toBe(r.exportTotals.cost_micros);
    // Fresh labels miss the text cache, repeated ones hit it: both kinds of text were billed.
    expect(r.client.texts_computed).toBeGreaterThan(0);
    expect(r.client.texts_cached).toBeGreaterThan(0);
  });

  it("counts every request once among the answers, retries the rate limit with the same key", () => {
    const { traffic } = result;
    const answered = Object.values(traffic.answers).reduce((a, b) => a + b, 0);
    expect(answered).toBe(traffic.requests);
    expect(Object.values(traffic.attemptOutcomes).reduce((a, b) => a + b, 0)).toBe(traffic.attempts);
    expect(traffic.attemptOutcomes["429 rate_limited"]).toBeGreaterThan(0);
    expect(traffic.retries.byReason["429 rate_limited"]).toBeGreaterThan(0);
    expect(Object.keys(traffic.latencyMs).sort()).toEqual(["all", "captions", "classify", "embeddings"]);
  });

  it("breaks GPU time down by stage from the service's own metrics", () => {
    const breakdown = result.gpu.breakdown;
    expect(breakdown?.processes).toBe(1);
    expect(breakdown?.kinds.image?.items).toBeGreaterThan(0);
    expect(breakdown?.kinds.image?.inferenceMsPerBatch).toBeGreaterThan(0);
    expect(breakdown?.routes["/v1/embed/images"]?.requests).toBeGreaterThan(0);
    expect(result.gpu.split?.attempts).toBeGreaterThan(0);
    const report = renderReport(result);
    expect(report).toContain("## Billing reconciliation: EXACT");
    expect(report).toContain("RESULT: PASS");
  });

  it("drives an open loop at twice the calibrated rate: every arrival sent, billing exact", () => {
    expect(open.failures).toEqual([]);
    const { load } = open;
    expect(load.mode).toBe("open");
    expect(load.calibration?.ok).toBeGreaterThan(0);
    expect(load.calibration?.targetPerSecond).toBeCloseTo(2 * (load.calibration?.servedPerSecond ?? 0), 6);
    expect(load.open?.ratePerSecond).toBe(load.calibration?.targetPerSecond);
    expect(load.open?.scheduled).toBeGreaterThan(0);
    expect(load.open?.started).toBe(load.open?.scheduled);
    expect(load.open?.unsent).toBe(0);
    // The calibration's requests are billed with the run's: the reconciliation covers both.
    const r = open.reconciliation;
    expect(r.ok).toBe(true);
    expect(r.records.matched).toBe(r.client.requests);
    // Billed requests are the calibration's 2xx and the run's besides.
    expect(r.client.requests).toBeGreaterThan(load.calibration?.ok ?? Number.POSITIVE_INFINITY);
    expect(open.deadline.late.count).toBe(0);
    expect(open.deadline.waitedToFail.count).toBe(0);
    expect(open.deadline.cells.length).toBeGreaterThan(0);
  });

  it("refuses every bad request as its case expects, bills none, and does not count their 4xx as failures", () => {
    const bad = open.bad;
    expect(bad?.corpusSize).toBeGreaterThanOrEqual(40);
    expect(bad?.requests).toBeGreaterThan(0);
    expect(bad?.failed).toBe(0);
    for (const c of bad?.cases ?? []) expect(Object.keys(c.answers), c.id).toEqual([c.expected]);
    expect(open.reconciliation.records.billedBad).toEqual([]);
    const refused = Object.entries(open.traffic.attemptOutcomes).filter(
      ([o]) => /^4(0|1|2)\d /.test(o) && !o.startsWith("429"),
    );
    expect(refused.length).toBeGreaterThan(0);
    const report = renderReport(open);
    expect(report).toContain(`## Bad input: corpus of ${bad?.corpusSize} cases`);
    expect(report).toContain("## Load: open loop");
    expect(report).toContain("RESULT: PASS");
  });
});
