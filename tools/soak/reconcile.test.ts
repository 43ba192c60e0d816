import { describe, expect, it } from "vitest";
import { type ExportRecord, type ReconcileInput, reconcile } from "./reconcile.ts";
import type { Attempt, LogicalRequest } from "./types.ts";
import { settleDecision } from "./usage-sources.ts";

const KEY = "key_0123456789abcdef";
let serial = 0;

/** A request answered 200 with `units` on its first attempt (or as given). */
function answered(units: [number, number, number], attempts?: Partial<Attempt>[]): LogicalRequest {
  const n = serial++;
  const usage = { images: units[0], texts_computed: units[1], texts_cached: units[2] };
  const list = attempts ?? [{ status: 200, usage }];
  return {
    client: 0,
    seq: n,
    route: "classify",
    encoding: "json",
    idempotencyKey: `idem-${n}`,
    images: units[0],
    attempts: list.map((a, i) => ({
      requestId: `soak.r${n}.a${i}`,
      startMs: 0,
      endMs: 1,
      replayed: false,
      phase: "run",
      ...(a.status && a.status < 300 ? { usage } : {}),
      ...a,
    })),
  };
}

/** The record the edge would have written for attempt `attempt` of `request`. */
function recordOf(request: LogicalRequest, attempt = 0, changes: Partial<ExportRecord> = {}): ExportRecord {
  const usage = request.attempts.find((a) => a.usage)?.usage ?? {
    images: 0,
    texts_computed: 0,
    texts_cached: 0,
  };
  return {
    id: `usg_${String(serial++).padStart(32, "0")}`,
    request_id: request.attempts[attempt]?.requestId ?? "?",
    key_id: KEY,
    route: "/v1/classify",
    requests: 1,
    ...usage,
    cost_micros: usage.images * 400 + usage.texts_computed * 20 + usage.texts_cached * 5,
    ...changes,
  };
}

/** Input where the meter and the export agree with `records` (so only record-level faults remain). */
function input(requests: LogicalRequest[], records: ExportRecord[]): ReconcileInput {
  const sum = (field: "requests" | "images" | "texts_computed" | "texts_cached" | "cost_micros") =>
    records.reduce((n, r) => n + r[field], 0);
  const totals = {
    requests: sum("requests"),
    images: sum("images"),
    texts_computed: sum("texts_computed"),
    texts_cached: sum("texts_cached"),
    cost_micros: sum("cost_micros"),
  };
  return {
    requests,
    keyId: KEY,
    meter: totals,
    exportRecords: records,
    exportTotals: { ...totals, records: records.length },
  };
}

/** A bad-input request answered as given. */
function badOne(status: number, code: string, ok = false): LogicalRequest {
  const n = serial++;
  return {
    client: 0,
    seq: n,
    route: "bad",
    bad: {
      id: "embeddings: an unknown field",
      method: "POST",
      path: "/v1/embeddings",
      expected: { status: 400, code: "invalid_request" },
      needsGpu: false,
    },
    encoding: "other",
    idempotencyKey: `idem-${n}`,
    images: 0,
    attempts: [
      {
        requestId: `soak.r${n}b.a0`,
        startMs: 0,
        endMs: 1,
        replayed: false,
        phase: "run",
        status,
        code,
        ...(ok ? { usage: { images: 0, texts_computed: 1, texts_cached: 0 } } : {}),
      },
    ],
  };
}

describe("billing reconciliation with bad input", () => {
  it("expects no record for a refused bad request, and does not count its 4xx as missing", () => {
    const good = answered([1, 2, 0]);
    const refused = [badOne(400, "invalid_request"), badOne(422, "idempotency_key_reused")];
    const r = reconcile(input([good, ...refused], [recordOf(good)]));
    expect(r.ok).toBe(true);
    expect(r.client.requests).toBe(1);
    expect(r.records).toMatchObject({ matched: 1, missing: [], billedBad: [], billedUnanswered: [] });
  });

  it("fails on any record of a bad request, whatever it was answered", () => {
    const refused = badOne(400, "invalid_request");
    const record = recordOf(refused, 0, { route: "/v1/embeddings", texts_computed: 1 });
    const r = reconcile(input([answered([0, 1, 0]), refused], [record]));
    expect(r.ok).toBe(false);
    expect(r.records.billedBad).toEqual([
      { id: record.id, request_id: refused.attempts[0]?.requestId, caseId: "embeddings: an unknown field" },
    ]);
    // Answered 2xx and billed: still billed bad input (the judge separately fails its 2xx).
    const served = badOne(200, "", true);
    const billed = recordOf(served, 0, { route: "/v1/embeddings" });
    const again = reconcile(input([served], [billed]));
    expect(again.ok).toBe(false);
    expect(again.records.billedBad).toHaveLength(1);
    expect(again.records.missing).toEqual([]);
  });
});

describe("billing reconciliation", () => {
  it("passes when each 2xx answer has one record with its units, and meter and export agree", () => {
    const a = answered([2, 7, 0]);
    const b = answered([0, 1, 3]);
    const failed = answered([1, 0, 0], [{ status: 503, code: "gpu_unavailable" }]);
    const r = reconcile(input([a, b, failed], [recordOf(a), recordOf(b)]));
    expect(r.ok).toBe(true);
    expect(r.client).toEqual({ requests: 2, images: 2, texts_computed: 8, texts_cached: 3 });
    expect(r.records.matched).toBe(2);
    expect(r.differences).toEqual([]);
  });

  it("counts a key once: a replay is the same answer, and the record is found by the lost attempt's id", () => {
    // The first attempt timed out after the edge billed it; the retry got the stored answer.
    const lost = answered([1, 0, 7], [{ noAnswer: "timeout" }, { status: 200, replayed: true }]);
    const r = reconcile(input([lost], [recordOf(lost, 0)]));
    expect(r.ok).toBe(true);
    expect(r.client.requests).toBe(1);
    expect(r.replays).toBe(1);
  });

  it("finds a record by the id the edge answered with when it did not keep ours", () => {
    const a = answered([1, 0, 0]);
    (a.attempts[0] as Attempt).answeredRequestId = "req_edge_chosen";
    expect(reconcile(input([a], [recordOf(a, 0, { request_id: "req_edge_chosen" })])).ok).toBe(true);
  });

  it("reports a 2xx answer without a record as missing, and the totals that then differ", () => {
    const a = answered([1, 0, 0]);
    const b = answered([2, 0, 0]);
    const r = reconcile(input([a, b], [recordOf(a)]));
    expect(r.ok).toBe(false);
    expect(r.records.missing).toEqual([
      { idempotencyKey: b.idempotencyKey, requestIds: [b.attempts[0]?.requestId] },
    ]);
    expect(r.differences).toContain("requests: clients 2, /v1/usage 1");
    expect(r.differences).toContain("images: clients 3, D1 records 1");
  });

  it("reports records no request explains: unknown request ids, other keys, requests never answered 2xx", () => {
    const a = answered([1, 0, 0]);
    const failed = answered([1, 0, 0], [{ noAnswer: "timeout" }, { status: 503, code: "gpu_unavailable" }]);
    const stranger = recordOf(a, 0, { request_id: "req_someone_else" });
    const otherKey = recordOf(a, 0, { key_id: "key_ffffffffffffffff", request_id: "soak.other" });
    const billedLost = recordOf(failed, 0, { images: 1 });
    const r = reconcile(input([a, failed], [recordOf(a), stranger, otherKey, billedLost]));
    expect(r.ok).toBe(false);
    expect(r.records.extra.map((e) => e.why)).toEqual([
      "no request of this run",
      "another key (key_ffffffffffffffff)",
    ]);
    expect(r.records.billedUnanswered).toEqual([
      { id: billedLost.id, request_id: billedLost.request_id, idempotencyKey: failed.idempotencyKey },
    ]);
  });

  it("reports a request billed twice, and a record listed twice by the export's pages", () => {
    const a = answered([1, 0, 0], [{ noAnswer: "timeout" }, { status: 200 }]);
    const first = recordOf(a, 0);
    const second = recordOf(a, 1);
    const twice = reconcile(input([a], [first, second]));
    expect(twice.records.duplicate).toEqual([
      { idempotencyKey: a.idempotencyKey, recordIds: [first.id, second.id] },
    ]);
    expect(twice.ok).toBe(false);
    const b = answered([1, 0, 0]);
    const listed = recordOf(b);
    const paged = reconcile({ ...input([b], [listed]), exportRecords: [listed, listed] });
    expect(paged.records.duplicate).toEqual([{ recordIds: [listed.id, listed.id] }]);
    expect(paged.records.matched).toBe(1);
    expect(paged.ok).toBe(false);
  });

  it("reports records whose units or route differ from the answer", () => {
    const a = answered([2, 7, 0]);
    const r = reconcile(input([a], [recordOf(a, 0, { texts_computed: 6, texts_cached: 1 })]));
    expect(r.records.unitMismatch).toEqual([
      expect.objectContaining({ expected: "/v1/classify 1/2/7/0", got: "/v1/classify 1/2/6/1" }),
    ]);
    expect(r.ok).toBe(false);
    const wrongRoute = reconcile(input([a], [recordOf(a, 0, { route: "/v1/captions" })]));
    expect(wrongRoute.records.unitMismatch).toHaveLength(1);
  });

  it("reports a key executed twice, and a replay that differs from the original", () => {
    const twice = answered([1, 0, 0], [{ status: 200 }, { status: 200 }]);
    expect(reconcile(input([twice], [recordOf(twice)])).executedTwice).toEqual([twice.idempotencyKey]);
    const differs = answered([1, 0, 0], [{ status: 200 }, { status: 200, replayed: true }]);
    (differs.attempts[1] as Attempt).usage = { images: 2, texts_computed: 0, texts_cached: 0 };
    const r = reconcile(input([differs], [recordOf(differs)]));
    expect(r.replayDiffers).toEqual([differs.idempotencyKey]);
    expect(r.ok).toBe(false);
  });

  it("compares the meter, the export's totals and its records with each other", () => {
    const a = answered([1, 2, 3]);
    const base = input([a], [recordOf(a)]);
    const meterAhead = reconcile({ ...base, meter: { ...base.meter, texts_cached: 4, cost_micros: 1 } });
    expect(meterAhead.differences).toEqual([
      "texts_cached: clients 3, /v1/usage 4",
      `cost_micros: /v1/usage 1, D1 records ${base.meter.cost_micros}`,
    ]);
    const totalsOff = reconcile({ ...base, exportTotals: { ...base.exportTotals, records: 2 } });
    expect(totalsOff.differences).toEqual(["records: D1 export totals 2, its records 1"]);
    expect(totalsOff.ok).toBe(false);
  });
});

describe("settling the export", () => {
  it("stops when two reads agree and hold what the meter billed, or have agreed long enough", () => {
    expect(settleDecision(undefined, "a", 10, 10, 0, 0, 10_000)).toBeUndefined(); // one read proves nothing
    expect(settleDecision("a", "b", 10, 10, 0, 0, 10_000)).toBeUndefined();
    expect(settleDecision("a", "a", 10, 10, 0, 500, 10_000)).toBe("matched");
    expect(settleDecision("a", "a", 9, 10, 0, 500, 10_000)).toBeUndefined(); // the queue may still deliver
    expect(settleDecision("a", "a", 9, 10, 0, 10_000, 10_000)).toBe("stable");
  });
});
