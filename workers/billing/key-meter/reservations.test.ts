import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newUsageRecordId, type Plan, type Units, unitsOf } from "../../../src/billing/index.ts";
import { meterOf, TEST_PLANS } from "../../../test/support/workers/billing.ts";
import type { KeyMeter } from "./index.ts";
import { heldUnits } from "./reservations.ts";
import { KEY_METER_SCHEMA_V1, KEY_METER_SCHEMA_VERSION } from "./schema.ts";
import type { SettleInput } from "./types.ts";

/** 5 item writes and 5 queries a month (and the tiny plan's 3 images, 10 texts). */
const plan = TEST_PLANS.tiny as Plan;

function freshMeter() {
  const keyId = `key_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  return { keyId, meter: meterOf(keyId) };
}

const reservationId = () => `rsv_${crypto.randomUUID().replaceAll("-", "")}`;

function settleInput(keyId: string, units: Partial<Units>, reservation?: string): SettleInput {
  return {
    record: {
      id: newUsageRecordId(),
      requestId: `req-${crypto.randomUUID()}`,
      keyId,
      account: "acme",
      planName: "tiny",
      plan,
      route: "/v1/collections/{name}/items",
      units: unitsOf(units),
    },
    plan,
    reservationId: reservation,
  };
}

/** Units held by live reservations right now, read from the object's storage. */
function held(meter: DurableObjectStub<KeyMeter>) {
  return runInDurableObject(meter, (_instance: KeyMeter, state) => heldUnits(state.storage.sql, Date.now()));
}

function month(meter: DurableObjectStub<KeyMeter>) {
  return runInDurableObject(meter, (_instance: KeyMeter, state) =>
    state.storage.sql
      .exec<{ item_writes: number; queries: number; images: number; texts: number }>(
        `SELECT COALESCE(SUM(item_writes), 0) AS item_writes, COALESCE(SUM(queries), 0) AS queries,
           COALESCE(SUM(images), 0) AS images, COALESCE(SUM(texts), 0) AS texts FROM monthly_usage`,
      )
      .one(),
  );
}

describe("KeyMeter reservations", () => {
  it("holds units until the request settles; settling consumes them into the month's counters", async () => {
    const { keyId, meter } = freshMeter();
    const id = reservationId();
    const reserved = await meter.reserve({
      keyId,
      plan,
      reservationId: id,
      units: { item_writes: 3, images: 2 },
    });
    expect(reserved.ok).toBe(true);
    expect(await held(meter)).toEqual({ images: 2, texts: 0, item_writes: 3, queries: 0 });
    // What is held is gone for everyone else, and the RateLimit fields say so.
    if (reserved.ok) expect(reserved.snapshot.month.used).toMatchObject({ images: 2, item_writes: 3 });

    const settled = await meter.settle(settleInput(keyId, { item_writes: 3, images: 2 }, id));
    expect(settled.ok).toBe(true);
    if (settled.ok) expect(settled.record).toMatchObject({ item_writes: 3, images: 2, queries: 0 });
    expect(await held(meter)).toEqual({ images: 0, texts: 0, item_writes: 0, queries: 0 });
    expect(await month(meter)).toEqual({ item_writes: 3, queries: 0, images: 2, texts: 0 });
  });

  it("refuses a reservation past the quota and holds nothing for it", async () => {
    const { keyId, meter } = freshMeter();
    expect(
      (await meter.reserve({ keyId, plan, reservationId: reservationId(), units: { queries: 4 } })).ok,
    ).toBe(true);
    const refused = await meter.reserve({
      keyId,
      plan,
      reservationId: reservationId(),
      units: { queries: 2 },
    });
    expect(refused).toMatchObject({ ok: false, code: "quota_exceeded" });
    if (!refused.ok) expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(await held(meter)).toMatchObject({ queries: 4 });
    // Every dimension is checked, not only the first.
    const images = await meter.reserve({ keyId, plan, reservationId: reservationId(), units: { images: 4 } });
    expect(images).toMatchObject({ ok: false, code: "quota_exceeded" });
    expect(await held(meter)).toEqual({ images: 0, texts: 0, item_writes: 0, queries: 4 });
  });

  it("never lets concurrent reservations pass the quota together: 12 racing for 5 item writes → exactly 5", async () => {
    const { keyId, meter } = freshMeter();
    const ids = Array.from({ length: 12 }, reservationId);
    const results = await Promise.all(
      ids.map((id) => meter.reserve({ keyId, plan, reservationId: id, units: { item_writes: 1 } })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === "quota_exceeded")).toBe(true);
    expect(await held(meter)).toMatchObject({ item_writes: 5 });
    // The winners all settle (never refused for what they reserved), and the month ends exactly at the quota.
    const winners = ids.filter((_, i) => results[i]?.ok);
    const settled = await Promise.all(
      winners.map((id) => meter.settle(settleInput(keyId, { item_writes: 1 }, id))),
    );
    expect(settled.every((s) => s.ok)).toBe(true);
    expect(await month(meter)).toMatchObject({ item_writes: 5 });
  });

  it("settles a reserved request even when others took the rest of the month, and refuses units beyond the reservation", async () => {
    const { keyId, meter } = freshMeter();
    const mine = reservationId();
    expect((await meter.reserve({ keyId, plan, reservationId: mine, units: { item_writes: 2 } })).ok).toBe(
      true,
    );
    // A request that did not reserve cannot take the reserved units: 3 fit, a 4th does not.
    expect((await meter.settle(settleInput(keyId, { item_writes: 3 }))).ok).toBe(true);
    expect(await meter.settle(settleInput(keyId, { item_writes: 1 }))).toMatchObject({
      ok: false,
      code: "quota_exceeded",
    });
    // Using more than it reserved, with the month full: refused, and its reservation is gone with the request.
    const greedy = await meter.settle(settleInput(keyId, { item_writes: 3 }, mine));
    expect(greedy).toMatchObject({ ok: false, code: "quota_exceeded" });
    expect(await held(meter)).toMatchObject({ item_writes: 0 });

    const other = reservationId();
    const { keyId: k2, meter: m2 } = freshMeter();
    expect((await m2.reserve({ keyId: k2, plan, reservationId: other, units: { item_writes: 5 } })).ok).toBe(
      true,
    );
    // Fewer units than reserved settle too; the rest are let go.
    expect((await m2.settle(settleInput(k2, { item_writes: 4 }, other))).ok).toBe(true);
    expect(await month(m2)).toMatchObject({ item_writes: 4 });
    expect(await held(m2)).toMatchObject({ item_writes: 0 });
  });

  it("settles a reserved request whatever the month holds by then: even a plan lowered meanwhile keeps its units", async () => {
    const { keyId, meter } = freshMeter();
    const id = reservationId();
    expect((await meter.reserve({ keyId, plan, reservationId: id, units: { queries: 5 } })).ok).toBe(true);
    const lowered = { ...plan, monthly_quota: { ...plan.monthly_quota, queries: 1 } };
    const settled = await meter.settle({ ...settleInput(keyId, { queries: 5 }, id), plan: lowered });
    expect(settled.ok).toBe(true);
  });

  it("frees the units of a reservation whose lease ran out, and then checks its settlement like any other", async () => {
    const { keyId, meter } = freshMeter();
    const crashed = reservationId();
    expect((await meter.reserve({ keyId, plan, reservationId: crashed, units: { queries: 5 } })).ok).toBe(
      true,
    );
    expect(
      await meter.reserve({ keyId, plan, reservationId: reservationId(), units: { queries: 1 } }),
    ).toMatchObject({
      ok: false,
    });
    // Its lease ends (set in storage rather than waited for): the units are free again.
    await runInDurableObject(meter, (_instance: KeyMeter, state) => {
      state.storage.sql.exec("UPDATE reservations SET expires_at = ? WHERE id = ?", Date.now() - 1, crashed);
    });
    expect(await held(meter)).toMatchObject({ queries: 0 });
    const later = reservationId();
    expect((await meter.reserve({ keyId, plan, reservationId: later, units: { queries: 5 } })).ok).toBe(true);
    // The expired request, settling after all, has no reservation left and no room.
    expect(await meter.settle(settleInput(keyId, { queries: 1 }, crashed))).toMatchObject({
      ok: false,
      code: "quota_exceeded",
    });
    expect((await meter.settle(settleInput(keyId, { queries: 5 }, later))).ok).toBe(true);
  });

  it("lets a released reservation go at once, and replaces one reserved again under the same id", async () => {
    const { keyId, meter } = freshMeter();
    const id = reservationId();
    await meter.reserve({ keyId, plan, reservationId: id, units: { item_writes: 2 } });
    await meter.reserve({ keyId, plan, reservationId: id, units: { item_writes: 4 } });
    expect(await held(meter)).toMatchObject({ item_writes: 4 });
    expect(await meter.release(id)).toBe(true);
    expect(await meter.release(id)).toBe(false);
    expect(await held(meter)).toMatchObject({ item_writes: 0 });
    expect(
      (await meter.reserve({ keyId, plan, reservationId: reservationId(), units: { item_writes: 5 } })).ok,
    ).toBe(true);
  });

  it("refuses reservations for a revoked key", async () => {
    const { keyId, meter } = freshMeter();
    await meter.revoke();
    expect(
      await meter.reserve({ keyId, plan, reservationId: reservationId(), units: { queries: 1 } }),
    ).toEqual({
      ok: false,
      code: "revoked_api_key",
    });
  });
});

describe("KeyMeter storage schema", () => {
  it("migrates an object created before item writes and queries in place, keeping its counters and records", async () => {
    const { keyId, meter } = freshMeter();
    const day = new Date().toISOString().slice(0, 10);
    const period = day.slice(0, 7);
    const recordId = newUsageRecordId();
    // Make the object what objects were before versioning: schema 1 with a month, a day and a pending record.
    await runInDurableObject(meter, (_instance: KeyMeter, state) => {
      const sql = state.storage.sql;
      for (const table of [
        "meter_schema",
        "reservations",
        "meter_state",
        "monthly_usage",
        "daily_usage",
        "usage_records",
        "idempotency",
        "idempotency_body",
      ])
        sql.exec(`DROP TABLE IF EXISTS ${table}`);
      sql.exec(KEY_METER_SCHEMA_V1);
      sql.exec("INSERT INTO monthly_usage VALUES (?, 2, 1, 6, 420)", period);
      sql.exec("INSERT INTO daily_usage VALUES (?, '/v1/embeddings', 2, 1, 4, 2, 420)", day);
      const old = {
        id: recordId,
        request_id: "r-1",
        key_id: keyId,
        account: "acme",
        plan: "tiny",
        route: "/v1/embeddings",
        created_at: Date.now(),
        requests: 1,
        images: 1,
        texts_computed: 4,
        texts_cached: 2,
        cost_micros: 490,
        currency: "USD",
      };
      sql.exec(
        "INSERT INTO usage_records (id, record, created_at) VALUES (?, ?, ?)",
        recordId,
        JSON.stringify(old),
        old.created_at,
      );
    });

    await evictDurableObject(meter);
    const report = await meter.usage({ fromDay: day, toDay: day });
    expect(report.month).toEqual({
      period,
      requests: 2,
      images: 1,
      texts: 6,
      item_writes: 0,
      queries: 0,
      cost_micros: 420,
    });
    expect(report.days).toEqual([
      {
        day,
        route: "/v1/embeddings",
        requests: 2,
        images: 1,
        texts_computed: 4,
        texts_cached: 2,
        item_writes: 0,
        queries: 0,
        cost_micros: 420,
      },
    ]);
    // The migrated object reserves and bills the new units, on top of what it had.
    const id = reservationId();
    expect((await meter.reserve({ keyId, plan, reservationId: id, units: { queries: 2 } })).ok).toBe(true);
    expect((await meter.settle(settleInput(keyId, { queries: 2 }, id))).ok).toBe(true);
    expect(await month(meter)).toEqual({ item_writes: 0, queries: 2, images: 1, texts: 6 });
    const version = await runInDurableObject(
      meter,
      (_instance: KeyMeter, state) =>
        state.storage.sql.exec<{ version: number }>("SELECT version FROM meter_schema").one().version,
    );
    expect(version).toBe(KEY_METER_SCHEMA_VERSION);
    // A settle retried for the old record (its answer lost before the upgrade) returns it with the new units at 0.
    const retried = await meter.settle({
      ...settleInput(keyId, {}),
      record: { ...settleInput(keyId, {}).record, id: recordId },
    });
    expect(retried.ok && retried.record).toMatchObject({ id: recordId, item_writes: 0, queries: 0 });
  });
});
