import { describe, expect, it } from "vitest";
import {
  buildUsageRecord,
  CSV_COLUMNS,
  costMicros,
  csvLine,
  DEFAULT_PLANS,
  dayOf,
  ExportedUsageRecordSchema,
  formatMicros,
  generateApiKey,
  hashApiKey,
  isWellFormedApiKey,
  keyHint,
  monthOf,
  parseBound,
  parsePlans,
  rateLimitHeaders,
  secondsUntilMonthEnds,
  take,
  UsageRecordSchema,
  unitsOf,
} from "./index.ts";

describe("API keys", () => {
  it("are clip_live_ + 43 base62 characters (32 random bytes), all different", () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    for (const key of keys) {
      expect(key).toMatch(/^clip_live_[0-9A-Za-z]{43}$/);
      expect(isWellFormedApiKey(key)).toBe(true);
    }
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("refuses other shapes", () => {
    const key = generateApiKey();
    for (const bad of [
      "",
      key.slice(0, -1),
      `${key}x`,
      key.replace("clip_live_", "clip_test_"),
      `${key.slice(0, -1)}-`,
      ` ${key}`,
    ])
      expect(isWellFormedApiKey(bad)).toBe(false);
  });

  it("are stored as their SHA-256 in hex, and shown only as a hint", async () => {
    expect(await hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const key = generateApiKey();
    expect(keyHint(key)).toBe(`clip_live_…${key.slice(-4)}`);
  });
});

describe("plans and prices", () => {
  it("read a BILLING_PLANS table written before collections: new prices, quotas and storage limits are 0", () => {
    // Exactly the shape deployments wrote before item writes, queries and storage limits existed.
    const old = {
      requests_per_second: 5,
      burst: 20,
      monthly_quota: { images: 100, texts: 1_000 },
      prices_micros: { request: 1, image: 400, text_computed: 20, text_cached: 5 },
    };
    const plans = parsePlans(JSON.stringify({ legacy: old }));
    expect(plans.legacy).toEqual({
      ...old,
      monthly_quota: { ...old.monthly_quota, item_writes: 0, queries: 0 },
      prices_micros: { ...old.prices_micros, item_write: 0, query: 0 },
      storage_limits: { collections: 0, items: 0, label_sets: 0, labels_per_set: 0 },
      explain_max_grid: 7,
    });
    const partial = parsePlans(
      JSON.stringify({
        p: { ...old, monthly_quota: { ...old.monthly_quota, queries: 7 }, storage_limits: { items: 9 } },
      }),
    );
    expect(partial.p?.monthly_quota).toEqual({ images: 100, texts: 1_000, item_writes: 0, queries: 7 });
    expect(partial.p?.storage_limits).toEqual({ collections: 0, items: 9, label_sets: 0, labels_per_set: 0 });
    expect(() => parsePlans(JSON.stringify({ x: { ...old, storage_limits: { collections: -1 } } }))).toThrow(
      /storage_limits\.collections/,
    );
    expect(() =>
      parsePlans(JSON.stringify({ x: { ...old, prices_micros: { ...old.prices_micros, query: 0.5 } } })),
    ).toThrow(/prices_micros\.query/);
  });

  it("default to free and pro, with room for collections, and can be replaced by BILLING_PLANS", () => {
    expect(DEFAULT_PLANS.free?.storage_limits).toEqual({
      collections: 5,
      items: 10_000,
      label_sets: 5,
      labels_per_set: 500,
    });
    // The defaults are what the schema would read from their own JSON.
    expect(parsePlans(JSON.stringify(DEFAULT_PLANS))).toEqual(DEFAULT_PLANS);
    expect(Object.keys(parsePlans(undefined))).toEqual(["free", "pro"]);
    const custom = parsePlans(JSON.stringify({ tiny: { ...DEFAULT_PLANS.free, burst: 1 } }));
    expect(custom.tiny?.burst).toBe(1);
    expect(() => parsePlans("{")).toThrow(/not JSON/);
    expect(() => parsePlans(JSON.stringify({ Bad: DEFAULT_PLANS.free }))).toThrow(/BILLING_PLANS/);
    expect(() => parsePlans(JSON.stringify({ x: { ...DEFAULT_PLANS.free, burst: 0 } }))).toThrow(/burst/);
  });

  it("price units in integer micro-dollars", () => {
    const units = unitsOf({ images: 2, texts_computed: 3, texts_cached: 4, item_writes: 5, queries: 6 });
    expect(costMicros(units, DEFAULT_PLANS.pro as never)).toBe(2 * 400 + 3 * 20 + 4 * 5 + 5 * 10 + 6 * 20);
    expect(costMicros(units, DEFAULT_PLANS.free as never)).toBe(0);
    expect(formatMicros(1_234_500)).toBe("1.234500");
    expect(formatMicros(5)).toBe("0.000005");
  });

  it("build records that pass their own schema, and quote CSV fields safely", () => {
    const record = buildUsageRecord(
      {
        id: `usg_${"a".repeat(32)}`,
        requestId: '-1+2,"x"',
        keyId: "key_1",
        account: "acme",
        planName: "pro",
        plan: DEFAULT_PLANS.pro as never,
        route: "/v1/classify",
        units: unitsOf({ images: 1, item_writes: 2 }),
      },
      Date.UTC(2026, 10, 2),
    );
    expect(UsageRecordSchema.parse(record)).toEqual(record);
    expect(record.cost_micros).toBe(420);
    const line = csvLine(record);
    expect(line.split(",").length).toBeGreaterThan(CSV_COLUMNS.length - 1);
    expect(line).toContain(`"'-1+2,""x"""`);
    expect(line).toContain("2026-11-02T00:00:00.000Z");
    expect(line).toContain(",0.000420,USD");
    // The units in CSV_COLUMNS' order, item writes and queries after the texts.
    const cells = line.split(",");
    expect(cells.slice(-9)).toEqual(["1", "1", "0", "0", "2", "0", "420", "0.000420", "USD"]);
    expect(CSV_COLUMNS.slice(-9)).toEqual([
      "requests",
      "images",
      "texts_computed",
      "texts_cached",
      "item_writes",
      "queries",
      "cost_micros",
      "cost",
      "currency",
    ]);
  });

  it("read exported records from before item writes and queries as serving none of them", () => {
    const {
      item_writes: _w,
      queries: _q,
      ...old
    } = buildUsageRecord(
      {
        id: `usg_${"b".repeat(32)}`,
        requestId: "r",
        keyId: "key_1",
        account: "acme",
        planName: "pro",
        plan: DEFAULT_PLANS.pro as never,
        route: "/v1/embeddings",
        units: unitsOf({ texts_computed: 1 }),
      },
      0,
    );
    expect(UsageRecordSchema.safeParse(old).success).toBe(false);
    expect(ExportedUsageRecordSchema.parse(old)).toMatchObject({ item_writes: 0, queries: 0 });
  });
});

describe("token bucket", () => {
  const limits = { ratePerSecond: 2, burst: 3 };

  it("starts full, allows a burst, then refuses until a token is back", () => {
    let state: ReturnType<typeof take>["state"] | undefined;
    const results = [0, 0, 0, 0].map(() => {
      const r = take(state, limits, 1_000);
      state = r.state;
      return r;
    });
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3]?.retryAfterSeconds).toBe(1);
    expect(take(state, limits, 1_499).allowed).toBe(false);
    const later = take(state, limits, 1_500);
    expect(later.allowed).toBe(true);
    expect(take(later.state, limits, 100_000).remaining).toBe(2); // never above the burst
  });

  it("refills nothing when the clock goes backwards, and tells slow plans when to retry", () => {
    const slow = { ratePerSecond: 0.01, burst: 1 };
    const first = take(undefined, slow, 50_000);
    const refused = take(first.state, slow, 10_000);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(100);
  });
});

describe("periods and report bounds", () => {
  it("are UTC months and days", () => {
    const t = Date.UTC(2026, 10, 30, 23, 59, 30);
    expect(monthOf(t)).toBe("2026-11");
    expect(dayOf(t)).toBe("2026-11-30");
    expect(secondsUntilMonthEnds(t)).toBe(30);
  });

  it("read days (the upper one inclusive) and timestamps, and refuse the rest", () => {
    expect(parseBound("2026-11-01", "from")).toBe(Date.UTC(2026, 10, 1));
    expect(parseBound("2026-11-30", "to")).toBe(Date.UTC(2026, 11, 1));
    expect(parseBound("2026-11-30T12:00:00Z", "to")).toBe(Date.UTC(2026, 10, 30, 12));
    for (const bad of ["2026-02-30", "yesterday", "1700000000", ""])
      expect(parseBound(bad, "from")).toBeUndefined();
  });
});

describe("RateLimit headers", () => {
  it("describe the bucket and the four monthly quotas as Structured Field lists", () => {
    const headers = rateLimitHeaders(DEFAULT_PLANS.free as never, {
      rate: { remaining: 9, fullInSeconds: 1 },
      month: {
        used: { images: 10, texts: 20, item_writes: 30, queries: 10_001 },
        resetSeconds: 3600,
        windowSeconds: 2_592_000,
      },
    });
    expect(headers["RateLimit-Policy"]).toBe(
      '"rate";q=10;w=5, "images";q=1000;qu="images";w=2592000, "texts";q=10000;qu="texts";w=2592000, ' +
        '"item_writes";q=10000;qu="item_writes";w=2592000, "queries";q=10000;qu="queries";w=2592000',
    );
    expect(headers.RateLimit).toBe(
      '"rate";r=9;t=1, "images";r=990;t=3600, "texts";r=9980;t=3600, "item_writes";r=9970;t=3600, ' +
        '"queries";r=0;t=3600',
    );
  });
});
