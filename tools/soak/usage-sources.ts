import { setTimeout as sleep } from "node:timers/promises";
import type { ExportRecord, Priced } from "./reconcile.ts";

/** The UTC days a run covered, for `from`/`to` (both inclusive on both usage routes). */
export interface Days {
  from: string;
  to: string;
}

export interface ExportRead {
  records: ExportRecord[];
  totals: Priced & { records: number };
  pages: number;
}

const MAX_PAGES = 10_000;
const PAGE = 1_000;

/** GETs JSON, waiting out a 429's Retry-After a few times (the usage route is rate-limited like every /v1 call). */
async function getJson<T>(url: URL, token: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as T;
    if (response.status !== 429 || attempt >= 5)
      throw new Error(`GET ${url.pathname} answered ${response.status}: ${text.slice(0, 300)}`);
    await sleep(Math.min(5, Number(response.headers.get("retry-after")) || 1) * 1000);
  }
}

/** `/v1/usage` totals for the key: read from its Durable Object, so exact at once. */
export async function readMeterTotals(edgeUrl: string, apiKey: string, days: Days): Promise<Priced> {
  const url = new URL("/v1/usage", edgeUrl);
  url.searchParams.set("from", days.from);
  url.searchParams.set("to", days.to);
  const body = await getJson<{ totals: Priced }>(url, apiKey);
  const { requests, images, texts_computed, texts_cached, cost_micros } = body.totals;
  return { requests, images, texts_computed, texts_cached, cost_micros };
}

/** Every record of the account in `/admin/usage`, following `next_cursor`, with the export's totals. */
export async function readExport(
  edgeUrl: string,
  adminToken: string,
  account: string,
  days: Days,
): Promise<ExportRead> {
  const records: ExportRecord[] = [];
  let totals: ExportRead["totals"] | undefined;
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url = new URL("/admin/usage", edgeUrl);
    url.searchParams.set("account", account);
    url.searchParams.set("from", days.from);
    url.searchParams.set("to", days.to);
    url.searchParams.set("limit", String(PAGE));
    if (cursor) url.searchParams.set("cursor", cursor);
    const page: { data: ExportRecord[]; totals: ExportRead["totals"]; next_cursor: string | null } =
      await getJson(url, adminToken);
    records.push(...page.data);
    totals ??= page.totals;
    cursor = page.next_cursor;
    pages++;
  } while (cursor && pages < MAX_PAGES);
  const t = totals ?? {
    records: 0,
    requests: 0,
    images: 0,
    texts_computed: 0,
    texts_cached: 0,
    cost_micros: 0,
  };
  return {
    records,
    totals: {
      records: t.records,
      requests: t.requests,
      images: t.images,
      texts_computed: t.texts_computed,
      texts_cached: t.texts_cached,
      cost_micros: t.cost_micros,
    },
    pages,
  };
}

/** What two reads must share to agree: the same records (by id) and the same totals. */
export function exportSignature(read: ExportRead): string {
  return `${JSON.stringify(read.totals)}|${read.records
    .map((r) => r.id)
    .sort()
    .join(",")}`;
}

/**
 * Whether the export has settled: two reads in a row agree and hold as many records as the meter billed
 * (`matched`), or they have agreed for `stableMs` without getting there (`stable`: something is missing or extra,
 * and waiting longer will not change it). Undefined: read again.
 *
 * @example settleDecision("a", "a", 10, 10, 0, 1000, 10_000) // "matched"
 */
export function settleDecision(
  previous: string | undefined,
  current: string,
  records: number,
  target: number,
  agreeingSinceMs: number,
  nowMs: number,
  stableMs: number,
): "matched" | "stable" | undefined {
  if (previous !== current) return undefined;
  if (records === target) return "matched";
  return nowMs - agreeingSinceMs >= stableMs ? "stable" : undefined;
}

export interface Settled<T> {
  value: T;
  reads: number;
  how: "matched" | "stable" | "deadline";
  waitedMs: number;
}

/**
 * Reads until `settleDecision` says so, or the deadline passes (then the last read stands). The export goes
 * through an alarm (1 s) and a Queue (batches of up to 2 s), so the first reads after a run are usually short.
 */
export async function settle<T>(options: {
  read: () => Promise<T>;
  signature: (value: T) => string;
  count: (value: T) => number;
  target: number;
  timeoutMs: number;
  intervalMs?: number;
  stableMs?: number;
}): Promise<Settled<T>> {
  const start = performance.now();
  const interval = options.intervalMs ?? 1_000;
  let previous: string | undefined;
  let agreeingSince = start;
  for (let reads = 1; ; reads++) {
    const value = await options.read();
    const now = performance.now();
    const current = options.signature(value);
    if (current !== previous) agreeingSince = now;
    const how = settleDecision(
      previous,
      current,
      options.count(value),
      options.target,
      agreeingSince,
      now,
      options.stableMs ?? 10_000,
    );
    if (how) return { value, reads, how, waitedMs: now - start };
    if (now - start >= options.timeoutMs) return { value, reads, how: "deadline", waitedMs: now - start };
    previous = current;
    await sleep(interval);
  }
}
