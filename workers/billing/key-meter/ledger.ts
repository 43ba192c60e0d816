import {
  type BucketState,
  dayOf,
  ExportedUsageRecordSchema,
  type LimitsSnapshot,
  monthBounds,
  monthOf,
  type Plan,
  peek,
  QUOTA_DIMENSIONS,
  type QuotaDimension,
  secondsUntilMonthEnds,
  type Units,
  type UsageRecord,
} from "../../../src/billing/index.ts";
import { heldUnits } from "./reservations.ts";
import type { QuotaPrecheck, ReservedUnits } from "./types.ts";

/**
 * Synchronous reads and writes of one key's counters in its SQLite storage. Callers run them inside
 * `transactionSync`, so a check and the write it allows are one atomic step.
 */

export interface MeterState {
  keyId: string | null;
  revokedAt: number | null;
  bucket: BucketState | undefined;
}

export interface MonthUsage extends ReservedUnits {
  requests: number;
  cost_micros: number;
}

export function readState(sql: SqlStorage): MeterState {
  const row = sql
    .exec<{
      key_id: string | null;
      revoked_at: number | null;
      bucket_tokens: number | null;
      bucket_updated_at: number | null;
    }>("SELECT key_id, revoked_at, bucket_tokens, bucket_updated_at FROM meter_state WHERE singleton = 1")
    .toArray()[0];
  if (!row) return { keyId: null, revokedAt: null, bucket: undefined };
  return {
    keyId: row.key_id,
    revokedAt: row.revoked_at,
    bucket:
      row.bucket_tokens === null || row.bucket_updated_at === null
        ? undefined
        : { tokens: row.bucket_tokens, updatedAt: row.bucket_updated_at },
  };
}

export function saveBucket(sql: SqlStorage, keyId: string, bucket: BucketState): void {
  sql.exec(
    `INSERT INTO meter_state (singleton, key_id, bucket_tokens, bucket_updated_at) VALUES (1, ?1, ?2, ?3)
     ON CONFLICT (singleton) DO UPDATE SET key_id = ?1, bucket_tokens = ?2, bucket_updated_at = ?3`,
    keyId,
    bucket.tokens,
    bucket.updatedAt,
  );
}

export function markRevoked(sql: SqlStorage, now: number): void {
  sql.exec(
    `INSERT INTO meter_state (singleton, revoked_at) VALUES (1, ?1)
     ON CONFLICT (singleton) DO UPDATE SET revoked_at = COALESCE(revoked_at, ?1)`,
    now,
  );
}

export function monthUsage(sql: SqlStorage, now: number): MonthUsage {
  const row = sql
    .exec<{ [K in keyof MonthUsage]: number }>(
      "SELECT requests, images, texts, item_writes, queries, cost_micros FROM monthly_usage WHERE period = ?",
      monthOf(now),
    )
    .toArray()[0];
  return row ?? { requests: 0, images: 0, texts: 0, item_writes: 0, queries: 0, cost_micros: 0 };
}

/** A record's units as the quotas count them. */
export function quotaUnits(units: Units): ReservedUnits {
  return {
    images: units.images,
    texts: units.texts_computed + units.texts_cached,
    item_writes: units.item_writes,
    queries: units.queries,
  };
}

/** What nobody can have any more this month: units committed plus units held by live reservations (but `except`). */
export function taken(sql: SqlStorage, now: number, except?: string): ReservedUnits {
  const used = monthUsage(sql, now);
  const held = heldUnits(sql, now, except);
  const out = { ...held };
  for (const d of QUOTA_DIMENSIONS) out[d] = used[d] + held[d];
  return out;
}

function left(plan: Plan, used: ReservedUnits): ReservedUnits {
  const out = { ...used };
  for (const d of QUOTA_DIMENSIONS) out[d] = plan.monthly_quota[d] - used[d];
  return out;
}

/** True when the route cannot succeed with what is left this month. */
export function precheckRefuses(check: QuotaPrecheck, plan: Plan, used: ReservedUnits): boolean {
  const remaining = left(plan, used);
  if (check.all?.some((d) => remaining[d] <= 0)) return true;
  return Boolean(check.any?.length && check.any.every((d) => remaining[d] <= 0));
}

/**
 * The dimensions where `units` do not fit the month: `taken` (committed, and held by others) plus the units would pass
 * the plan. Units within `reserved` always fit — they were checked when reserved and nobody could take them since —
 * so a reserved request is refused only for what it uses beyond its reservation.
 *
 * @example exceeded(plan, taken, { …, queries: 1 }, { …, queries: 1 }) → [] however full the month is
 */
export function exceeded(
  plan: Plan,
  takenByOthers: ReservedUnits,
  units: ReservedUnits,
  reserved: ReservedUnits | undefined,
): QuotaDimension[] {
  const remaining = left(plan, takenByOthers);
  return QUOTA_DIMENSIONS.filter((d) => units[d] > (reserved?.[d] ?? 0) && units[d] > remaining[d]);
}

export function recordExists(sql: SqlStorage, id: string): UsageRecord | undefined {
  const row = sql.exec<{ record: string }>("SELECT record FROM usage_records WHERE id = ?", id).toArray()[0];
  // Records committed before item writes and queries existed have neither.
  return row ? ExportedUsageRecordSchema.parse(JSON.parse(row.record)) : undefined;
}

/** Inserts the record into the outbox and adds it to this month's and this day's counters. */
export function commitRecord(sql: SqlStorage, record: UsageRecord): void {
  sql.exec(
    "INSERT INTO usage_records (id, record, created_at) VALUES (?, ?, ?)",
    record.id,
    JSON.stringify(record),
    record.created_at,
  );
  const texts = record.texts_computed + record.texts_cached;
  sql.exec(
    `INSERT INTO monthly_usage (period, requests, images, texts, item_writes, queries, cost_micros)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT (period) DO UPDATE SET requests = requests + ?2, images = images + ?3, texts = texts + ?4,
       item_writes = item_writes + ?5, queries = queries + ?6, cost_micros = cost_micros + ?7`,
    monthOf(record.created_at),
    record.requests,
    record.images,
    texts,
    record.item_writes,
    record.queries,
    record.cost_micros,
  );
  sql.exec(
    `INSERT INTO daily_usage (day, route, requests, images, texts_computed, texts_cached, item_writes, queries,
       cost_micros)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
     ON CONFLICT (day, route) DO UPDATE SET requests = requests + ?3, images = images + ?4,
       texts_computed = texts_computed + ?5, texts_cached = texts_cached + ?6, item_writes = item_writes + ?7,
       queries = queries + ?8, cost_micros = cost_micros + ?9`,
    dayOf(record.created_at),
    record.route,
    record.requests,
    record.images,
    record.texts_computed,
    record.texts_cached,
    record.item_writes,
    record.queries,
    record.cost_micros,
  );
}

export function snapshot(sql: SqlStorage, plan: Plan, now: number): LimitsSnapshot {
  const { bucket } = readState(sql);
  const { start, end } = monthBounds(now);
  return {
    rate: peek(bucket, { ratePerSecond: plan.requests_per_second, burst: plan.burst }, now),
    month: {
      used: taken(sql, now),
      resetSeconds: secondsUntilMonthEnds(now),
      windowSeconds: (end - start) / 1000,
    },
  };
}
