import type { Context } from "hono";
import * as z from "zod";
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
import { validate } from "../request/read-body.ts";
import { reportRangeOf } from "../request/report-range.ts";

const UsageExportQuery = z.strictObject({
  account: z.string().regex(ACCOUNT_PATTERN).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  format: z.enum(["json", "csv"]).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  cursor: z.string().max(200).optional(),
});

const CSV_PAGE = 1_000;

/**
 * `GET /admin/usage?account&from&to[&format=csv]` — the billing export from D1: every billed request of the
 * account (all accounts when omitted) in [from, to), with totals. `from`/`to` are UTC days (`to` inclusive) or ISO
 * timestamps; the default is this month so far. JSON pages with `limit` and `next_cursor`; CSV (`format=csv` or
 * `Accept: text/csv`) streams every row.
 */
export function registerAdminUsage(app: App): void {
  app.get("/admin/usage", async (c) => {
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
    return c.json({
      object: "usage_export",
      account: filter.account ?? null,
      from: new Date(filter.from).toISOString(),
      to: new Date(filter.to).toISOString(),
      currency: CURRENCY,
      totals: { ...totals, cost: formatMicros(totals.cost_micros) },
      data: records.map((r) => ({ ...r, time: new Date(r.created_at).toISOString() })),
      next_cursor: last && records.length === limit ? encodeCursor(last) : null,
    });
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
