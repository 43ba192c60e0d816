import type { Sql, TransactionSql } from "postgres";

/** Dimensions with an items table (migrations/postgres/0001_collections.sql); a model of another one cannot store. */
export const SUPPORTED_DIMS = [128, 512, 768] as const;

export function itemsTable(dim: number): string {
  if (!(SUPPORTED_DIMS as readonly number[]).includes(dim))
    throw new Error(`no items table for dimension ${dim}`);
  return `collection_items_${dim}`;
}

/** A live collection as the store keeps it; `id` is internal (never shown: names are the API's ids). */
export interface CollectionRow {
  id: string;
  account: string;
  name: string;
  description: string | null;
  model: string;
  dim: number;
  count: number;
  created: string;
}

export type CreateOutcome =
  | { kind: "created" | "exists"; collection: CollectionRow }
  | { kind: "limit"; limit: number };

// ISO 8601 in UTC, as the API shows timestamps (the driver, without type lookups, returns Postgres' own text).
export const ISO = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const COLUMNS = `id::text AS id, account, name, description, model, dim, item_count::text AS count, ${ISO("created_at")} AS created`;

function rowOf(row: Record<string, unknown>): CollectionRow {
  return {
    id: String(row.id),
    account: String(row.account),
    name: String(row.name),
    description: (row.description as string | null) ?? null,
    model: String(row.model),
    dim: Number(row.dim),
    count: Number(row.count),
    created: String(row.created),
  };
}

/** Thrown inside a transaction to roll it back with a reason the caller turns into an answer. */
export class Refusal extends Error {
  readonly reason: "collection_limit" | "item_limit" | "gone";
  readonly limit: number;

  constructor(reason: Refusal["reason"], limit = 0) {
    super(reason);
    this.reason = reason;
    this.limit = limit;
  }
}

/**
 * An account's collections in Postgres. Every write runs in one transaction with the account's storage counters
 * (account_storage), updated by a conditional UPDATE, so concurrent requests can never pass a plan limit together.
 */
export class CollectionStore {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Creates a collection, or returns the live one of that name; refused past `maxCollections` for the account. */
  async create(
    account: string,
    name: string,
    fields: { description: string | null; model: string; dim: number },
    maxCollections: number,
    attempt = 1,
  ): Promise<CreateOutcome> {
    itemsTable(fields.dim);
    try {
      return await this.sql.begin(async (tx) => {
        const [inserted] = await tx.unsafe(
          `INSERT INTO collections (account, name, description, model, dim) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (account, name) WHERE deleted_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
          [account, name, fields.description, fields.model, fields.dim],
        );
        if (!inserted) {
          const existing = await this.get(account, name, tx);
          if (!existing) throw new Refusal("gone");
          return { kind: "exists" as const, collection: existing };
        }
        await tx.unsafe("INSERT INTO account_storage (account) VALUES ($1) ON CONFLICT DO NOTHING", [
          account,
        ]);
        const [counted] = await tx.unsafe(
          "UPDATE account_storage SET collections = collections + 1 WHERE account = $1 AND collections < $2 RETURNING 1",
          [account, maxCollections],
        );
        if (!counted) throw new Refusal("collection_limit", maxCollections);
        return { kind: "created" as const, collection: rowOf(inserted) };
      });
    } catch (error) {
      if (error instanceof Refusal && error.reason === "collection_limit")
        return { kind: "limit", limit: error.limit };
      // The live one of that name was deleted between our insert and our read: the name is free now, so try again.
      if (error instanceof Refusal && error.reason === "gone" && attempt < 3)
        return this.create(account, name, fields, maxCollections, attempt + 1);
      throw error;
    }
  }

  async get(
    account: string,
    name: string,
    sql: Sql | TransactionSql = this.sql,
  ): Promise<CollectionRow | undefined> {
    const [row] = await sql.unsafe(
      `SELECT ${COLUMNS} FROM collections WHERE account = $1 AND name = $2 AND deleted_at IS NULL`,
      [account, name],
    );
    return row ? rowOf(row) : undefined;
  }

  /** Live collections by name, after `after` (the previous page's last name). */
  async list(account: string, after: string | undefined, limit: number): Promise<CollectionRow[]> {
    const rows = await this.sql.unsafe(
      `SELECT ${COLUMNS} FROM collections WHERE account = $1 AND deleted_at IS NULL AND name > $2
       ORDER BY name LIMIT $3`,
      [account, after ?? "", limit],
    );
    return rows.map(rowOf);
  }

  /**
   * Removes a collection from view at once and frees its share of the account's limits; its items are purged later
   * (`purge`). False when there was no such live collection.
   */
  async remove(account: string, name: string): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      const [row] = await tx.unsafe(
        `UPDATE collections SET deleted_at = now() WHERE account = $1 AND name = $2 AND deleted_at IS NULL
         RETURNING item_count::text AS count`,
        [account, name],
      );
      if (!row) return false;
      await tx.unsafe(
        "UPDATE account_storage SET collections = collections - 1, items = items - $2 WHERE account = $1",
        [account, Number(row.count)],
      );
      return true;
    });
  }

  /**
   * Purges deleted collections in bounded steps: at most `batch` items per call, then the collection's row once it
   * has none. Returns how many items went and whether anything is left, so a consumer can call again.
   */
  async purge(batch: number): Promise<{ items: number; collections: number; more: boolean }> {
    const [target] = await this.sql.unsafe(
      `SELECT id::text AS id, account, dim FROM collections WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT 1`,
    );
    if (!target) return { items: 0, collections: 0, more: false };
    const table = itemsTable(Number(target.dim));
    const deleted = await this.sql.unsafe(
      `DELETE FROM ${table} WHERE (account, collection_id, id) IN (
         SELECT account, collection_id, id FROM ${table} WHERE account = $1 AND collection_id = $2 LIMIT $3)
       RETURNING 1`,
      [target.account, target.id, batch],
    );
    if (deleted.length === batch) return { items: deleted.length, collections: 0, more: true };
    // Only once it has no items left (a second purge running beside this one may still be deleting them).
    await this.sql.unsafe(
      `DELETE FROM collections WHERE account = $1 AND id = $2
         AND NOT EXISTS (SELECT 1 FROM ${table} WHERE account = $1 AND collection_id = $2)`,
      [target.account, target.id],
    );
    const [left] = await this.sql.unsafe("SELECT 1 FROM collections WHERE deleted_at IS NOT NULL LIMIT 1");
    return { items: deleted.length, collections: 1, more: Boolean(left) };
  }
}
