import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import * as z from "zod";
import { UsageExport } from "../../src/api/index.ts";
import {
  ACCOUNT_PATTERN,
  CSV_COLUMNS,
  CURRENCY,
  csvLine,
  formatMicros,
  type UsageRecord,
} from "../../src/billing/index.ts";
import type { UsageFilter, UsageStore } from "../billing/usage-store.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { headerRefs } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { reportRangeOf } from "../request/report-range.ts";

const UsageExportQuery = z.strictObject({
  account: z.string().regex(ACCOUNT_PATTERN).optional().meta({ description: "One account; default: all." }),
  from: z
    .string()
    .optional()
    .meta({ description: "A UTC day (YYYY-MM-DD) or an ISO timestamp; default: this month." }),
  to: z.string().optional().meta({ description: "A UTC day (inclusive) or an ISO timestamp (exclusive)." }),
  format: z
    .enum(["json", "csv"])
    .optional()
    .meta({ description: "`csv` streams every row; also `Accept: text/csv`." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .meta({ description: "JSON page size; default 1000." }),
  cursor: z.string().max(200).optional().meta({ description: "`next_cursor` of the previous page." }),
});

const USAGE_EXPORT_EXAMPLE = {
  object: "usage_export",
  account: "acme",
  from: "2026-12-01T00:00:00.000Z",
  to: "2026-12-02T00:00:00.000Z",
  currency: "USD",
  totals: {
    records: 0,
    requests: 0,
    images: 0,
    texts_computed: 0,
    texts_cached: 0,
    item_writes: 0,
    queries: 0,
    cost_micros: 0,
    cost: "0.000000",
  },
  data: [],
  next_cursor: null,
};

export const usageExportRoute = createRoute({
  method: "get",
  path: "/admin/usage",
  operationId: "exportUsage",
  tags: ["Admin"],
  summary: "The billing export",
  description: `Every billed request of an account (all accounts when omitted) in [from, to), with totals, from the
billing database. JSON pages with \`limit\` and \`next_cursor\`; CSV (\`format=csv\` or \`Accept: text/csv\`) streams
every row.`,
  security: [{ AdminToken: [] }],
  request: { query: UsageExportQuery },
  responses: {
    200: {
      description: "The billed requests: JSON pages, or every row as CSV.",
      headers: headerRefs("XRequestId"),
      content: {
        "application/json": { schema: UsageExport, example: USAGE_EXPORT_EXAMPLE },
        "text/csv": {
          schema: z.string().meta({ description: "One header line, then one row per billed request." }),
        },
      },
    },
  },
});

const CSV_PAGE = 1_000;

/** `GET /admin/usage` (see `description`). */
export function registerAdminUsage(app: App): void {
  addRoute(app, usageExportRoute, errorsOf(E.any, E.admin, E.query), async (c) => {
    const query = validate(UsageExportQuery, c.req.query());
    const filter = filterOf(query);
    const store = c.get("services").billing.usage;
    const csv =
      query.format === "csv" || (!query.format && /\btext\/csv\b/.test(c.req.header("accept") ?? ""));
    if (csv) return csvExport(c, store, filter);
    const limit = query.limit ?? 1_000;
    const [records, totals] = await Promise.all([
      store.page(filter, limit, query.cursor ? decodeCursor(query.cursor) : undefined),
      store.totals(filter),
    ]);
    const last = records.at(-1);
    // Typed here: with text/csv declared too, the library would accept any Response for this route.
    const body: z.infer<typeof UsageExport> = {
      object: "usage_export",
      account: filter.account ?? null,
      from: new Date(filter.from).toISOString(),
      to: new Date(filter.to).toISOString(),
      currency: CURRENCY,
      totals: { ...totals, cost: formatMicros(totals.cost_micros) },
      data: records.map((r) => ({ ...r, time: new Date(r.created_at).toISOString() })),
      next_cursor: last && records.length === limit ? encodeCursor(last) : null,
    };
    return c.json(body, 200);
  });
}

function csvExport(c: Context, store: UsageStore, filter: UsageFilter): Response {
  const encoder = new TextEncoder();
  let after: UsageRecord | undefined;
  let started = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(",")}\r\n`));
      }
      const page = await store.page(filter, CSV_PAGE, after);
      if (page.length) controller.enqueue(encoder.encode(page.map((r) => `${csvLine(r)}\r\n`).join("")));
      after = page.at(-1);
      if (page.length < CSV_PAGE) controller.close();
    },
  });
  const name = `usage-${filter.account ?? "all"}-${new Date(filter.from).toISOString().slice(0, 10)}.csv`;
  return c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${name}"`,
  });
}

function filterOf(query: z.infer<typeof UsageExportQuery>): UsageFilter {
  return { account: query.account, ...reportRangeOf(query) };
}

function encodeCursor(record: UsageRecord): string {
  return btoa(`${record.created_at}:${record.id}`);
}

function decodeCursor(cursor: string): { created_at: number; id: string } {
  const match = /^(\d+):(usg_[0-9a-f]{32})$/.exec(safeAtob(cursor));
  if (!match)
    throw new ApiError("invalid_request", "cursor is not one this API returned", {
      errors: [{ pointer: "/cursor", detail: "unknown cursor" }],
    });
  return { created_at: Number(match[1]), id: match[2] as string };
}

function safeAtob(text: string): string {
  try {
    return atob(text);
  } catch {
    return "";
  }
}
