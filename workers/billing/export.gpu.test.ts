import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runDurableObjectAlarm,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { CSV_COLUMNS, type UsageRecord } from "../../src/billing/index.ts";
import {
  admin,
  committed,
  createKey,
  meterOf,
  postJsonWith,
  sumUnits,
} from "../../test/support/workers/billing.ts";
import worker from "../index.ts";

const QUEUE = "clip-edge-usage-export";

async function deliver(bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    QUEUE,
    bodies.map((body, i) => ({ id: `msg-${i}`, timestamp: Date.now(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue?.(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function rowsInD1(keyId: string): Promise<UsageRecord[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM usage_records WHERE key_id = ? ORDER BY created_at, id",
  )
    .bind(keyId)
    .all<UsageRecord>();
  return results;
}

/** Three billed requests on a fresh key; returns the key and its committed records (without outbox state). */
async function billThree() {
  const created = await createKey({ plan: "pro" });
  for (const input of ["an apple", ["a pear", "a plum"], ["a fig", "a lime", "a kiwi"]])
    expect((await postJsonWith(created.key, "/v1/embeddings", { input })).status).toBe(200);
  const records = (await committed(created.id)).records.map(({ export_state: _, ...record }) => record);
  expect(records).toHaveLength(3);
  return { ...created, records };
}

describe("exporting usage records to D1", () => {
  it("the key's alarm sends every committed record to the queue and marks it sent", async () => {
    const { id } = await billThree();
    await runDurableObjectAlarm(meterOf(id)); // false if the alarm already ran by itself: either way, sent
    const states = (await committed(id)).records.map((r) => r.export_state);
    expect(states.every((s) => s >= 1)).toBe(true);
  });

  it("stores each record once however many times the queue delivers it, and confirms it to the key", async () => {
    const { id, records } = await billThree();
    for (const attempts of [1, 2, 3]) {
      const result = await deliver(records, attempts);
      expect(result.explicitAcks.sort()).toEqual(["msg-0", "msg-1", "msg-2"]);
      expect(result.retryMessages).toEqual([]);
    }
    // Redelivery in a mixed batch, and a batch holding the same record twice.
    await deliver([records[0], records[0], records[2]]);
    expect(await rowsInD1(id)).toEqual(records);
    expect((await committed(id)).records.map((r) => r.export_state)).toEqual([2, 2, 2]);
  });

  it("acknowledges and logs a malformed message instead of retrying it forever", async () => {
    const { id, records } = await billThree();
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const result = await deliver([{ nonsense: true }, records[1]]);
    expect(result.explicitAcks.sort()).toEqual(["msg-0", "msg-1"]);
    expect(log.mock.calls.flat().join(" ")).toContain("malformed");
    log.mockRestore();
    expect((await rowsInD1(id)).map((r) => r.id)).toEqual([records[1]?.id]);
  });

  it("runs end to end by itself: commit → alarm → queue → consumer → D1", async () => {
    const { id, records } = await billThree();
    await runDurableObjectAlarm(meterOf(id));
    await vi.waitFor(async () => expect(await rowsInD1(id)).toHaveLength(3), {
      timeout: 15_000,
      interval: 250,
    });
    expect(await rowsInD1(id)).toEqual(records);
  });
});

describe("GET /admin/usage — the billing export", () => {
  it("returns an account's records with exact totals as JSON, page by page", async () => {
    const { account, records } = await billThree();
    await deliver(records);
    const today = new Date().toISOString().slice(0, 10);
    const response = await admin(`/admin/usage?account=${account}&from=${today}&to=${today}&limit=2`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as {
      data: (UsageRecord & { time: string })[];
      totals: Record<string, number | string>;
      next_cursor: string | null;
      currency: string;
    };
    const total = sumUnits(records);
    expect(page.totals).toMatchObject({ records: 3, ...total });
    expect(page.currency).toBe("USD");
    expect(page.data.map((r) => r.id)).toEqual(records.slice(0, 2).map((r) => r.id));
    expect(page.next_cursor).not.toBeNull();
    const rest = (await (
      await admin(
        `/admin/usage?account=${account}&from=${today}&to=${today}&limit=2&cursor=${page.next_cursor}`,
      )
    ).json()) as typeof page;
    expect(rest.data.map((r) => r.id)).toEqual([records[2]?.id]);
    expect(rest.next_cursor).toBeNull();
  });

  it("returns the same export as CSV", async () => {
    const { account, records } = await billThree();
    await deliver(records);
    const response = await admin(`/admin/usage?account=${account}&format=csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const lines = (await response.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    expect(lines.slice(1).map((line) => line.split(",")[0])).toEqual(records.map((r) => r.id));
    expect(lines[1]).toContain(`,${records[0]?.cost_micros},0.0000`);
  });

  it("refuses a malformed range", async () => {
    const response = await admin("/admin/usage?from=yesterday");
    expect(response.status).toBe(400);
    const reversed = await admin("/admin/usage?from=2026-11-02&to=2026-11-01");
    expect(reversed.status).toBe(400);
  });
});
