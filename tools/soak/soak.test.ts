import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../../test/support/edge-stack.ts";
import { modelPresent, TEST_SECRET } from "../../test/support/gpu-service.ts";
import { parseMix } from "./args.ts";
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

/** The harness's core against the real Worker in workerd and a real GPU process, as `npm start` runs them. */
describe.skipIf(!modelPresent())("the soak harness against the real stack", () => {
  let stack: EdgeStack;
  let result: SoakResult;

  beforeAll(async () => {
    stack = await startEdgeStack({ ADMIN_TOKEN, BILLING_PLANS: JSON.stringify({ free: TIGHT, pro: TIGHT }) });
    result = await runSoak({
      url: stack.edgeUrl,
      adminToken: ADMIN_TOKEN,
      clients: 3,
      seconds: 4,
      mix: parseMix("classify,embeddings,captions"),
      retries: 3,
      timeoutSeconds: 30,
      settleSeconds: 60,
      plan: "pro",
      seed: 7,
      gpuUrl: stack.gpu.url,
      gpuSecret: TEST_SECRET,
      stateFile: join(mkdtempSync(join(tmpdir(), "soak-")), "no-local-stack.json"),
    });
  }, 240_000);
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
});
