import type { LabelSetStatus } from "../../../src/api/label-sets.ts";

/** A label set's row (migrations/0003_label_sets.sql): who owns it, what it holds, and whether it can be used. */
export interface LabelSetRow {
  id: string;
  account: string;
  name: string;
  model: string;
  dim: number;
  labels: string[];
  templates: string[];
  /** Indexes of the labels one of whose prompts was cut to the context length. */
  truncated: number[];
  labelCount: number;
  status: LabelSetStatus;
  error: string | null;
  created: number;
}

export type NewLabelSet = Omit<LabelSetRow, "created" | "error" | "truncated" | "labelCount">;

/** @example newLabelSetId() → "ls_6f1c0e9a2b4d8c7e5f3a1b2c" */
export function newLabelSetId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `ls_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const COLUMNS =
  "id, account, name, model, dim, labels, templates, truncated, status, error, created_at, label_count";
/** A list's columns: a page of sets without their labels, which can be 2,000 each. */
const SUMMARY_COLUMNS =
  "id, account, name, model, dim, '[]' AS labels, '[]' AS templates, '[]' AS truncated, status, error, created_at, label_count";

/**
 * Label sets' metadata in D1, per account. Every read names the account, so a key never sees another account's set.
 * The plan's limit on sets per account is checked inside the INSERT itself (D1 runs one statement at a time), so
 * racing creates cannot pass it.
 */
export class LabelSetStore {
  private readonly db: D1Database;

  constructor(db: D1Database) {
    this.db = db;
  }

  /** Inserts the set unless the account already holds `maxSets`; false when refused. */
  async create(set: NewLabelSet, maxSets: number, truncated: readonly number[]): Promise<boolean> {
    const now = Date.now();
    const result = await this.db
      .prepare(
        `INSERT INTO label_sets (id, account, name, model, dim, labels, templates, label_count, status, created_at,
           updated_at, truncated)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?12
         WHERE (SELECT count(*) FROM label_sets WHERE account = ?2) < ?11`,
      )
      .bind(
        set.id,
        set.account,
        set.name,
        set.model,
        set.dim,
        JSON.stringify(set.labels),
        JSON.stringify(set.templates),
        set.labels.length,
        set.status,
        now,
        maxSets,
        JSON.stringify(truncated),
      )
      .run();
    return result.meta.changes === 1;
  }

  async get(account: string, id: string): Promise<LabelSetRow | undefined> {
    const row = await this.db
      .prepare(`SELECT ${COLUMNS} FROM label_sets WHERE account = ?1 AND id = ?2`)
      .bind(account, id)
      .first<Record<string, unknown>>();
    return row ? rowOf(row) : undefined;
  }

  /** A page of the account's sets in id order, after the previous page's last id; without labels (`labelCount`). */
  async list(account: string, after: string | undefined, limit: number): Promise<LabelSetRow[]> {
    const { results } = await this.db
      .prepare(
        `SELECT ${SUMMARY_COLUMNS} FROM label_sets WHERE account = ?1 AND id > ?2 ORDER BY id LIMIT ?3`,
      )
      .bind(account, after ?? "", limit)
      .all<Record<string, unknown>>();
    return results.map(rowOf);
  }

  /** Marks a set that is building ready (or failed); false when it was deleted or finished meanwhile. */
  async finish(
    account: string,
    id: string,
    outcome: { status: "ready"; truncated: number[] } | { status: "failed"; error: string },
  ): Promise<boolean> {
    const result = await this.db
      .prepare(
        `UPDATE label_sets SET status = ?3, truncated = ?4, error = ?5, updated_at = ?6
         WHERE account = ?1 AND id = ?2 AND status = 'building'`,
      )
      .bind(
        account,
        id,
        outcome.status,
        JSON.stringify(outcome.status === "ready" ? outcome.truncated : []),
        outcome.status === "failed" ? outcome.error : null,
        Date.now(),
      )
      .run();
    return result.meta.changes === 1;
  }

  /** How many sets the account holds: a cheap early look at its limit (the INSERT decides). */
  async count(account: string): Promise<number> {
    const row = await this.db
      .prepare("SELECT count(*) AS n FROM label_sets WHERE account = ?1")
      .bind(account)
      .first<{ n: number }>();
    return Number(row?.n ?? 0);
  }

  async delete(account: string, id: string): Promise<boolean> {
    const result = await this.db
      .prepare("DELETE FROM label_sets WHERE account = ?1 AND id = ?2")
      .bind(account, id)
      .run();
    return result.meta.changes === 1;
  }
}

function rowOf(row: Record<string, unknown>): LabelSetRow {
  return {
    id: String(row.id),
    account: String(row.account),
    name: String(row.name),
    model: String(row.model),
    dim: Number(row.dim),
    labels: JSON.parse(String(row.labels)) as string[],
    templates: JSON.parse(String(row.templates)) as string[],
    truncated: JSON.parse(String(row.truncated)) as number[],
    labelCount: Number(row.label_count),
    status: String(row.status) as LabelSetStatus,
    error: row.error === null || row.error === undefined ? null : String(row.error),
    created: Number(row.created_at),
  };
}
