import type { UsageRecord } from "../../src/billing/index.ts";

const COLUMNS = [
  "id",
  "request_id",
  "key_id",
  "account",
  "plan",
  "route",
  "created_at",
  "requests",
  "images",
  "texts_computed",
  "texts_cached",
  "item_writes",
  "queries",
  "cost_micros",
  "currency",
] as const satisfies readonly (keyof UsageRecord)[];

const INSERT = `INSERT INTO usage_records (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})
  ON CONFLICT (id) DO NOTHING`;

export interface UsageFilter {
  account?: string;
  /** ms, inclusive. */
  from: number;
  /** ms, exclusive. */
  to: number;
}

export interface UsageTotals {
  records: number;
  requests: number;
  images: number;
  texts_computed: number;
  texts_cached: number;
  item_writes: number;
  queries: number;
  cost_micros: number;
}

/** The `usage_records` table in D1: the account-level copy of every billed request, for reports and invoices. */
export class UsageStore {
  private readonly db: D1Database;

  constructor(db: D1Database) {
    this.db = db;
  }

  /**
   * Inserts records in one D1 transaction; a record already present (a redelivered message) is skipped, so the
   * table holds each billed request once whatever the number of deliveries. Returns how many rows were new.
   */
  async insert(records: readonly UsageRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const statement = this.db.prepare(INSERT);
    const results = await this.db.batch(
      records.map((record) => statement.bind(...COLUMNS.map((column) => record[column]))),
    );
    return results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
  }

  /** A page of records in (created_at, id) order, after the cursor. */
  async page(
    filter: UsageFilter,
    limit: number,
    after?: { created_at: number; id: string },
  ): Promise<UsageRecord[]> {
    const { where, binds } = whereOf(filter);
    const cursor = after ? "AND (created_at > ? OR (created_at = ? AND id > ?))" : "";
    const cursorBinds = after ? [after.created_at, after.created_at, after.id] : [];
    const result = await this.db
      .prepare(
        `SELECT ${COLUMNS.join(", ")} FROM usage_records ${where} ${cursor} ORDER BY created_at, id LIMIT ?`,
      )
      .bind(...binds, ...cursorBinds, limit)
      .all<UsageRecord>();
    return result.results;
  }

  async totals(filter: UsageFilter): Promise<UsageTotals> {
    const { where, binds } = whereOf(filter);
    const row = await this.db
      .prepare(
        `SELECT COUNT(*) AS records, COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(images), 0) AS images,
           COALESCE(SUM(texts_computed), 0) AS texts_computed, COALESCE(SUM(texts_cached), 0) AS texts_cached,
           COALESCE(SUM(item_writes), 0) AS item_writes, COALESCE(SUM(queries), 0) AS queries,
           COALESCE(SUM(cost_micros), 0) AS cost_micros
         FROM usage_records ${where}`,
      )
      .bind(...binds)
      .first<UsageTotals>();
    return (
      row ?? {
        records: 0,
        requests: 0,
        images: 0,
        texts_computed: 0,
        texts_cached: 0,
        item_writes: 0,
        queries: 0,
        cost_micros: 0,
      }
    );
  }
}

function whereOf(filter: UsageFilter): { where: string; binds: (string | number)[] } {
  return filter.account === undefined
    ? { where: "WHERE created_at >= ? AND created_at < ?", binds: [filter.from, filter.to] }
    : {
        where: "WHERE account = ? AND created_at >= ? AND created_at < ?",
        binds: [filter.account, filter.from, filter.to],
      };
}
