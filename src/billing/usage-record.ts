import * as z from "zod";
import { CURRENCY, type Plan } from "./plans.ts";

/** The units of one billed request. `requests` is always 1; it is a unit so a plan can price requests. */
export interface Units {
  requests: number;
  images: number;
  texts_computed: number;
  texts_cached: number;
  /** Collection items upserted. */
  item_writes: number;
  /** Collection searches. */
  queries: number;
}

/** A request's units, zero where it served none. @example unitsOf({ images: 2 }).queries === 0 */
export function unitsOf(units: Partial<Units>): Units {
  return {
    requests: 1,
    images: 0,
    texts_computed: 0,
    texts_cached: 0,
    item_writes: 0,
    queries: 0,
    ...units,
  };
}

/**
 * One billed request, exactly as committed in the key's Durable Object, exported to D1 and shown in billing
 * exports. `id` is unique per billed request; `request_id` is the X-Request-Id the caller saw (callers may reuse
 * theirs, so it is not a key).
 */
export const UsageRecordSchema = z.strictObject({
  id: z.string().regex(/^usg_[0-9a-f]{32}$/),
  request_id: z.string().min(1).max(128),
  key_id: z.string().min(1),
  account: z.string().min(1),
  plan: z.string().min(1),
  route: z.string().min(1),
  /** Milliseconds since the epoch, when the record was committed. */
  created_at: z.int().min(0),
  requests: z.int().min(0),
  images: z.int().min(0),
  texts_computed: z.int().min(0),
  texts_cached: z.int().min(0),
  item_writes: z.int().min(0),
  queries: z.int().min(0),
  cost_micros: z.int().min(0),
  currency: z.string().length(3),
});
export type UsageRecord = z.infer<typeof UsageRecordSchema>;

/**
 * A record as the export queue may carry it: records committed before item writes and queries existed (still in a
 * key's outbox, or in the queue during a deploy) have neither, and served none of them.
 */
export const ExportedUsageRecordSchema = UsageRecordSchema.extend({
  item_writes: z.int().min(0).default(0),
  queries: z.int().min(0).default(0),
});

/**
 * The price of some units under a plan, in micro-USD: integers, so totals are exact.
 *
 * @example costMicros(unitsOf({ images: 2, texts_computed: 3, texts_cached: 4, queries: 1 }), DEFAULT_PLANS.pro) === 900
 */
export function costMicros(units: Units, plan: Pick<Plan, "prices_micros">): number {
  const p = plan.prices_micros;
  return (
    units.requests * p.request +
    units.images * p.image +
    units.texts_computed * p.text_computed +
    units.texts_cached * p.text_cached +
    units.item_writes * p.item_write +
    units.queries * p.query
  );
}

export interface RecordInput {
  id: string;
  requestId: string;
  keyId: string;
  account: string;
  planName: string;
  plan: Pick<Plan, "prices_micros">;
  route: string;
  units: Units;
}

/** Builds the record of a request committed at `now` (ms). */
export function buildUsageRecord(input: RecordInput, now: number): UsageRecord {
  return {
    id: input.id,
    request_id: input.requestId,
    key_id: input.keyId,
    account: input.account,
    plan: input.planName,
    route: input.route,
    created_at: now,
    ...input.units,
    cost_micros: costMicros(input.units, input.plan),
    currency: CURRENCY,
  };
}

/**
 * Micro-USD as a decimal string with six places, without floating point.
 *
 * @example formatMicros(1_234_500) === "1.234500"; formatMicros(5) === "0.000005"
 */
export function formatMicros(micros: number): string {
  const whole = Math.trunc(micros / 1_000_000);
  const fraction = String(micros % 1_000_000).padStart(6, "0");
  return `${whole}.${fraction}`;
}

export const CSV_COLUMNS = [
  "id",
  "request_id",
  "time",
  "account",
  "key_id",
  "plan",
  "route",
  "requests",
  "images",
  "texts_computed",
  "texts_cached",
  "item_writes",
  "queries",
  "cost_micros",
  "cost",
  "currency",
] as const;

/** One CSV line (RFC 4180 quoting) of a record, without the line break. */
export function csvLine(record: UsageRecord): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string | number> = {
    ...record,
    time: new Date(record.created_at).toISOString(),
    cost: formatMicros(record.cost_micros),
  };
  return CSV_COLUMNS.map((column) => csvField(values[column])).join(",");
}

// A field starting like a formula is prefixed with ' so spreadsheets show it instead of evaluating it (OWASP's
// CSV-injection advice); request ids come from callers.
function csvField(value: string | number): string {
  const text = typeof value === "string" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Totals of billed units and cost, over records or over days of a report. */
export interface UnitTotals {
  requests: number;
  images: number;
  texts_computed: number;
  texts_cached: number;
  item_writes: number;
  queries: number;
  cost_micros: number;
}

/** Sums units and cost. @example sumUnits([{ requests: 1, images: 2, … }, …]).images */
export function sumUnits(rows: readonly UnitTotals[]): UnitTotals {
  return rows.reduce<UnitTotals>(
    (sum, r) => ({
      requests: sum.requests + r.requests,
      images: sum.images + r.images,
      texts_computed: sum.texts_computed + r.texts_computed,
      texts_cached: sum.texts_cached + r.texts_cached,
      item_writes: sum.item_writes + r.item_writes,
      queries: sum.queries + r.queries,
      cost_micros: sum.cost_micros + r.cost_micros,
    }),
    {
      requests: 0,
      images: 0,
      texts_computed: 0,
      texts_cached: 0,
      item_writes: 0,
      queries: 0,
      cost_micros: 0,
    },
  );
}
