import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { UsageReport } from "../../src/api/index.ts";
import { CURRENCY, dayOf, formatMicros, type QuotaDimension, sumUnits } from "../../src/billing/index.ts";
import { planNamed } from "../billing/index.ts";
import type { DailyUsage } from "../billing/key-meter/types.ts";
import type { App } from "../context.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { reportRangeOf } from "../request/report-range.ts";

const day = (what: string) =>
  z
    .string()
    .optional()
    .meta({ description: `${what} UTC day, YYYY-MM-DD (inclusive).`, example: "2026-12-01" });
const UsageQuery = z.strictObject({ from: day("The first"), to: day("The last") });

export const usageRoute = createRoute({
  method: "get",
  path: "/v1/usage",
  operationId: "getUsage",
  tags: ["Account"],
  summary: "The calling key's usage",
  description: `The calling key's usage by UTC day and route, with costs, and this month's quota. Read from the key's
own ledger, so it includes the request made a moment ago. \`from\`/\`to\` are UTC days, both inclusive (default:
this month so far). Not billed; rate-limited like every /v1 call.`,
  security: [{ ApiKey: [] }],
  request: { query: UsageQuery },
  responses: {
    200: jsonResponse(
      UsageReport,
      "Usage by day and route.",
      {
        object: "usage",
        key_id: "key_0123456789abcdef",
        account: "acme",
        plan: "pro",
        from: "2026-12-01",
        to: "2026-12-01",
        currency: "USD",
        data: [
          {
            day: "2026-12-01",
            route: "/v1/classify",
            requests: 2,
            images: 2,
            texts_computed: 21,
            texts_cached: 21,
            item_writes: 0,
            queries: 0,
            cost_micros: 1250,
            cost: "0.001250",
          },
          {
            day: "2026-12-01",
            route: "/v1/collections/{name}/items",
            requests: 1,
            images: 2,
            texts_computed: 0,
            texts_cached: 0,
            item_writes: 3,
            queries: 0,
            cost_micros: 830,
            cost: "0.000830",
          },
        ],
        totals: {
          requests: 3,
          images: 4,
          texts_computed: 21,
          texts_cached: 21,
          item_writes: 3,
          queries: 0,
          cost_micros: 2080,
          cost: "0.002080",
        },
        quota: {
          period: "2026-12",
          images: { used: 4, limit: 500000 },
          texts: { used: 42, limit: 5000000 },
          item_writes: { used: 3, limit: 5000000 },
          queries: { used: 0, limit: 10000000 },
        },
      },
      v1Headers(),
    ),
  },
});

/** `GET /v1/usage` (see `description`). */
export function registerV1Usage(app: App): void {
  addRoute(app, usageRoute, errorsOf(E.any, E.apiKey, E.query), async (c) => {
    const query = validate(UsageQuery, c.req.query());
    const key = c.get("apiKey");
    const billing = c.get("services").billing;
    const range = reportRangeOf(query);
    const fromDay = dayOf(range.from);
    const toDay = dayOf(range.to - 1);
    const report = await billing.meter(key.id).usage({ fromDay, toDay });
    const plan = planNamed(billing.config, key.plan);
    const totals = sumUnits(report.days);
    const quota = (d: QuotaDimension) => ({ used: report.month[d], limit: plan?.monthly_quota[d] ?? null });
    return c.json(
      {
        object: "usage" as const,
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
          images: quota("images"),
          texts: quota("texts"),
          item_writes: quota("item_writes"),
          queries: quota("queries"),
        },
      },
      200,
    );
  });
}
