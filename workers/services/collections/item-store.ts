import type { Sql, TransactionSql } from "postgres";
import type { FilterCondition, Metadata } from "../../../src/api/collections.ts";
import { type CollectionRow, ISO, itemsTable, Refusal } from "./collection-store.ts";
import { filterSql } from "./filter-sql.ts";

export interface ItemToWrite {
  id: string;
  /** Unit length, of the collection's dimension. */
  vector: ArrayLike<number>;
  metadata: Metadata;
}

export interface SearchOptions {
  k: number;
  conditions: readonly FilterCondition[];
  minScore?: number;
  excludeId?: string;
  /** "More like this": the query's own item, first among items exactly as near (a duplicate image, say). */
  firstId?: string;
}

export interface SearchMatch {
  id: string;
  score: number;
  metadata: Metadata;
}

export interface StoredItemRow {
  id: string;
  metadata: Metadata;
  created: string;
  updated: string;
  embedding?: number[];
}

/** pgvector's text form, `[0.1,0.2,…]`: how a vector travels without the driver's type lookups. */
export const vectorText = (v: ArrayLike<number>) => `[${Array.from(v).join(",")}]`;
const parseVector = (text: string) => JSON.parse(text) as number[];

const ITEM_COLUMNS = `id, metadata, ${ISO("created_at")} AS created, ${ISO("updated_at")} AS updated`;

/** How far an HNSW search may go before the exact scan takes over. */
export interface SearchTuning {
  /**
   * pgvector's `hnsw.max_scan_tuples`: how many rows an iterative scan may visit past its first `ef_search`
   * candidates while a filter keeps rejecting them. 20,000 is pgvector's default; lower bounds the worst case of a
   * selective filter, where the exact scan of the filtered rows answers anyway.
   */
  maxScanTuples: number;
  /**
   * More planner settings for the search's transaction, e.g. `{ enable_sort: "off" }`, which makes the planner
   * take HNSW even for a collection it would sort exactly (a test of the fallback needs that on a small table).
   */
  settings?: Readonly<Record<string, string>>;
}
export const DEFAULT_SEARCH_TUNING: SearchTuning = Object.freeze({ maxScanTuples: 20_000 });

/** The items of one collection, in the items table of its dimension. */
export class ItemStore {
  private readonly sql: Sql;
  private readonly collection: CollectionRow;
  private readonly table: string;
  private readonly tuning: SearchTuning;

  constructor(sql: Sql, collection: CollectionRow, tuning: SearchTuning = DEFAULT_SEARCH_TUNING) {
    this.sql = sql;
    this.collection = collection;
    this.table = itemsTable(collection.dim);
    this.tuning = tuning;
  }

  /**
   * Inserts or replaces items in one transaction, with the collection's count and the account's item total; refused
   * (nothing written) when the new items would take the account past `maxItems`, or when the collection was deleted
   * meanwhile. Returns how many were new.
   */
  async upsert(items: readonly ItemToWrite[], maxItems: number): Promise<number> {
    const { account, id: collectionId } = this.collection;
    const batch = items.map((item) => ({
      id: item.id,
      embedding: vectorText(item.vector),
      metadata: item.metadata,
    }));
    // Locks in one order everywhere — the items (in id order), then the collection's row, then the account's — so concurrent
    // writes queue instead of deadlocking; the collection's row also tells whether it was deleted meanwhile.
    return this.sql.begin(async (tx) => {
      const written = await tx.unsafe(
        `INSERT INTO ${this.table} (account, collection_id, id, embedding, metadata)
         SELECT $1, $2, item.id, item.embedding::vector, item.metadata
         FROM jsonb_to_recordset($3::jsonb) AS item (id text, embedding text, metadata jsonb)
         ORDER BY item.id
         ON CONFLICT (account, collection_id, id)
         DO UPDATE SET embedding = excluded.embedding, metadata = excluded.metadata, updated_at = now()
         RETURNING (xmax = 0) AS inserted`,
        [account, collectionId, this.sql.json(batch)],
      );
      const added = written.filter((row) => row.inserted === true || row.inserted === "t").length;
      await this.countItems(tx, added);
      if (added > 0) {
        const [counted] = await tx.unsafe(
          "UPDATE account_storage SET items = items + $2 WHERE account = $1 AND items + $2 <= $3 RETURNING 1",
          [account, added, maxItems],
        );
        if (!counted) throw new Refusal("item_limit", maxItems);
      }
      return added;
    });
  }

  /** Adds to the live collection's count (locking its row), or refuses: a deleted one gave its items back. */
  private async countItems(tx: TransactionSql, change: number): Promise<void> {
    const [live] = await tx.unsafe(
      `UPDATE collections SET item_count = item_count + $3
       WHERE account = $1 AND id = $2 AND deleted_at IS NULL RETURNING 1`,
      [this.collection.account, this.collection.id, change],
    );
    if (!live) throw new Refusal("gone");
  }

  /**
   * The k nearest items by cosine similarity among those the filter lets through, best first. HNSW with iterative
   * scans first (pgvector ≥ 0.8 keeps scanning until k filtered rows or its scan limit); when that finds fewer than
   * k, an exact scan of the filtered rows, so a filtered query returns k matches whenever k exist.
   */
  async search(vector: ArrayLike<number>, options: SearchOptions): Promise<SearchMatch[]> {
    let matches = await this.nearest(vector, options, "approximate");
    // Whether the index found k is decided before min_score: the k nearest passing it or not is the answer itself.
    if (matches.length < options.k) matches = await this.nearest(vector, options, "exact");
    const floor = options.minScore;
    return floor === undefined ? matches : matches.filter((m) => m.score >= floor);
  }

  /**
   * One search mode alone: HNSW with iterative scans, or the exact scan of the filtered rows. `search` is both; this
   * is what benchmarks and tests compare.
   */
  async nearest(
    vector: ArrayLike<number>,
    { k, conditions, excludeId, firstId }: SearchOptions,
    mode: "approximate" | "exact",
  ): Promise<SearchMatch[]> {
    const { account, id: collectionId } = this.collection;
    const filter = filterSql(conditions, 7, (value) => this.sql.json(value as never));
    // `+ 0` hides the distance from the HNSW index, which makes the planner scan the filtered rows exactly.
    const distance = mode === "exact" ? "(embedding <=> $1::vector) + 0" : "embedding <=> $1::vector";
    const query = `
      WITH nearest AS MATERIALIZED (
        SELECT id, metadata, embedding <=> $1::vector AS distance
        FROM ${this.table}
        WHERE account = $2 AND collection_id = $3 AND id <> $4 AND ${filter.sql}
        ORDER BY ${distance}
        LIMIT $5
      )
      SELECT id, metadata, 1 - distance AS score FROM nearest ORDER BY distance, id <> $6, id`;
    const params = [
      vectorText(vector),
      account,
      collectionId,
      excludeId ?? "",
      k,
      firstId ?? "",
      ...filter.params,
    ];
    const rows = await this.sql.begin(async (tx) => {
      // One round trip for the search's settings, local to this transaction. ef_search 200 (pgvector's default is
      // 40): at 100,000 × 512-d, 40 gave recall@10 0.90–0.96 across index builds, 200 gave 0.96–0.98 for ≤ 4.5 ms more
      // (npm run bench:collections, docs/benchmarks.md). Statements are unnamed, so no plan is ever cached generic.
      // statement_timeout bounds the worst search (an exact scan of a huge collection for a filter no index helps):
      // past it the request is a 503 database_unavailable, and the connection is free again.
      const settings = [
        ["hnsw.iterative_scan", "relaxed_order"],
        ["hnsw.ef_search", String(searchBreadth(k))],
        ["hnsw.max_scan_tuples", String(this.tuning.maxScanTuples)],
        ["statement_timeout", String(SEARCH_TIMEOUT_MS)],
        ...Object.entries(this.tuning.settings ?? {}),
      ];
      await tx.unsafe(
        `SELECT ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`,
        settings.flat(),
      );
      return tx.unsafe(query, params as never[]);
    });
    return rows.map((row) => ({
      id: String(row.id),
      score: Number(row.score),
      metadata: metadataOf(row.metadata),
    }));
  }

  async get(id: string, withEmbedding: boolean): Promise<StoredItemRow | undefined> {
    const [row] = await this.sql.unsafe(
      `SELECT ${ITEM_COLUMNS}${withEmbedding ? ", embedding::text AS embedding" : ""}
       FROM ${this.table} WHERE account = $1 AND collection_id = $2 AND id = $3`,
      [this.collection.account, this.collection.id, id],
    );
    if (!row) return undefined;
    return {
      id: String(row.id),
      metadata: metadataOf(row.metadata),
      created: String(row.created),
      updated: String(row.updated),
      ...(withEmbedding ? { embedding: parseVector(String(row.embedding)) } : {}),
    };
  }

  /** A stored item's vector, for "more like this". */
  async vectorOf(id: string): Promise<number[] | undefined> {
    const [row] = await this.sql.unsafe(
      `SELECT embedding::text AS embedding FROM ${this.table} WHERE account = $1 AND collection_id = $2 AND id = $3`,
      [this.collection.account, this.collection.id, id],
    );
    return row ? parseVector(String(row.embedding)) : undefined;
  }

  /** Items by id, after `after` (the previous page's last id). */
  async list(after: string | undefined, limit: number): Promise<StoredItemRow[]> {
    const rows = await this.sql.unsafe(
      `SELECT ${ITEM_COLUMNS} FROM ${this.table} WHERE account = $1 AND collection_id = $2 AND id > $3
       ORDER BY id LIMIT $4`,
      [this.collection.account, this.collection.id, after ?? "", limit],
    );
    return rows.map((row) => ({
      id: String(row.id),
      metadata: metadataOf(row.metadata),
      created: String(row.created),
      updated: String(row.updated),
    }));
  }

  /** Deletes items by id with the counters, in one transaction; returns how many existed. */
  async delete(ids: readonly string[]): Promise<number> {
    const { account, id: collectionId } = this.collection;
    return this.sql.begin(async (tx) => {
      const deleted = await tx.unsafe(
        // Rows locked in id order, as upserts write them, so the two never wait on each other in a cycle.
        `DELETE FROM ${this.table} WHERE account = $1 AND collection_id = $2 AND id IN (
           SELECT id FROM ${this.table} WHERE account = $1 AND collection_id = $2
             AND id IN (SELECT value FROM jsonb_array_elements_text($3::jsonb))
           ORDER BY id FOR UPDATE)
         RETURNING 1`,
        [account, collectionId, this.sql.json([...ids])],
      );
      // Same lock order as upserts; a collection deleted meanwhile already gave these items back.
      await this.countItems(tx, -deleted.length);
      if (deleted.length > 0)
        await tx.unsafe("UPDATE account_storage SET items = items - $2 WHERE account = $1", [
          account,
          deleted.length,
        ]);
      return deleted.length;
    });
  }
}

// jsonb comes back as text when the driver does not look types up.
function metadataOf(value: unknown): Metadata {
  return (typeof value === "string" ? JSON.parse(value) : (value ?? {})) as Metadata;
}

/** The longest one search statement may run; docs/errors.md `database_unavailable` says it. */
export const SEARCH_TIMEOUT_MS = 10_000;

/** HNSW's candidate list for a top-k search: wide enough for recall ≥ 0.95 at 100k items, within pgvector's 1,000. */
export function searchBreadth(k: number): number {
  return Math.min(1000, Math.max(200, 4 * k));
}
