import * as z from "zod";
import { UsageRecordSchema } from "../billing/usage-record.ts";

/** What the usage and billing-export routes answer (zod, for the types and the OpenAPI document). */

const count = z.int().min(0);
const cost = z
  .string()
  .meta({ description: 'In the currency\'s units, exact to the micro-unit, e.g. "0.001234".' });

const unitTotals = {
  requests: count,
  images: count,
  texts_computed: count,
  texts_cached: count,
  item_writes: count.meta({ description: "Collection items upserted." }),
  queries: count.meta({ description: "Collection searches." }),
  cost_micros: count.meta({ description: "Millionths of the currency unit; integers, so sums are exact." }),
  cost,
};

export const UsageTotals = z.object(unitTotals).meta({ id: "UsageTotals" });

export const DailyRouteUsage = z
  .object({ day: z.string().meta({ description: "UTC day, YYYY-MM-DD." }), route: z.string(), ...unitTotals })
  .meta({ id: "DailyRouteUsage" });

const QuotaUse = z
  .object({
    used: count,
    limit: count.nullable().meta({ description: "The plan's monthly quota; null when the plan is gone." }),
  })
  .meta({ id: "QuotaUse" });

export const UsageReport = z
  .object({
    object: z.literal("usage"),
    key_id: z.string(),
    account: z.string(),
    plan: z.string(),
    from: z.string().meta({ description: "First UTC day of the report." }),
    to: z.string().meta({ description: "Last UTC day of the report (inclusive)." }),
    currency: z.string().length(3),
    data: z.array(DailyRouteUsage),
    totals: UsageTotals,
    quota: z.object({
      period: z.string().meta({ description: "This month, YYYY-MM." }),
      images: QuotaUse,
      texts: QuotaUse,
      item_writes: QuotaUse,
      queries: QuotaUse,
    }),
  })
  .meta({
    id: "UsageReport",
    description: "The calling key's usage by UTC day and route, with costs and quota.",
  });
export type UsageReport = z.infer<typeof UsageReport>;

export const BilledRequest = UsageRecordSchema.extend({
  time: z.iso.datetime().meta({ description: "`created_at` as an ISO 8601 timestamp." }),
}).meta({ id: "BilledRequest", description: "One billed request, exactly as committed and exported." });

export const ExportTotals = UsageTotals.extend({
  records: count.meta({ description: "Billed requests in the range (one record each)." }),
}).meta({ id: "ExportTotals" });

export const UsageExport = z
  .object({
    object: z.literal("usage_export"),
    account: z.string().nullable().meta({ description: "null: every account." }),
    from: z.iso.datetime().meta({ description: "Start of the range (inclusive)." }),
    to: z.iso.datetime().meta({ description: "End of the range (exclusive)." }),
    currency: z.string().length(3),
    totals: ExportTotals,
    data: z.array(BilledRequest),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: "Pass as `cursor` for the next page; null on the last." }),
  })
  .meta({
    id: "UsageExport",
    description: "The billing export: every billed request in the range, with totals.",
  });
