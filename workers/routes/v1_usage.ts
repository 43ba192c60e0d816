import * as z from "zod";
import { CURRENCY, dayOf, formatMicros, sumUnits } from "../../src/billing/index.ts";
import { planNamed } from "../billing/index.ts";
import type { DailyUsage } from "../billing/key-meter/index.ts";
import type { App } from "../context.ts";
import { validate } from "../request/read-body.ts";
import { reportRangeOf } from "../request/report-range.ts";

const UsageQuery = z.strictObject({ from: z.string().optional(), to: z.string().optional() });

/**
 * `GET /v1/usage?from&to` — the calling key's usage by UTC day and route, with costs, and this month's quota. Read
 * from the key's Durable Object, so it includes the request made a moment ago. `from`/`to` are UTC days, both
 * inclusive (default: this month so far). Not billed; rate-limited like every /v1 call.
 */
export function registerV1Usage(app: App): void {
  app.get("/v1/usage", async (c) => {
    const query = validate(UsageQuery, c.req.query());
    const key = c.get("apiKey");
    const billing = c.get("services").billing;
    const range = reportRangeOf(query);
    const fromDay = dayOf(range.from);
    const toDay = dayOf(range.to - 1);
    const report = await billing.meter(key.id).usage({ fromDay, toDay });
    const plan = planNamed(billing.config, key.plan);
    const totals = sumUnits(report.days);
    return c.json({
      object: "usage",
      key_id: key.id,
      account: key.account,
      plan: key.plan,
      from: fromDay,
      to: toDay,
      currency: CURRENCY,
      data: report.days.map((d: DailyUsage) => ({ ...d, cost: formatMicros(d.cost_micros) })),
      totals: { ...totals, cost: formatMicros(totals.cost_micros) },
      quota: {
        period: report.month.period,
        images: { used: report.month.images, limit: plan?.monthly_quota.images ?? null },
        texts: { used: report.month.texts, limit: plan?.monthly_quota.texts ?? null },
      },
    });
  });
}
