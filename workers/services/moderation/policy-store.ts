import { decodeBase64, encodeBase64 } from "../../../src/encoding/base64.ts";
import { float16ToFloat32, float32ToFloat16, normalizeInPlace } from "../../../src/vector/index.ts";

export interface PolicyCategoryRow {
  name: string;
  concepts: string[];
  threshold: number;
}

/** A category's calibration for one model: where to flag, the probability mapping, and what it measured. */
export interface StoredCategoryCalibration {
  threshold: number | null;
  platt: { a: number; b: number } | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  positives: number;
  negatives: number;
  target_met: boolean;
  rule: "target_precision" | "best_f1" | "uncalibrated";
  reason?: string;
}

export interface StoredCalibration {
  model: string;
  target_precision: number;
  examples: number;
  categories: Record<string, StoredCategoryCalibration>;
}

export interface PolicyRow {
  id: string;
  account: string;
  name: string;
  categories: PolicyCategoryRow[];
  /** By model id: a calibration belongs to the model that embedded its examples, and each is kept. */
  calibrations: Record<string, StoredCalibration>;
  created: number;
}

export interface StoredExample {
  categories: string[];
  embedding: Float32Array;
}

/** @example newPolicyId() → "mp_6f1c0e9a2b4d8c7e5f3a1b2c" */
export function newPolicyId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `mp_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Moderation policies and their labelled examples in D1, per account: every statement names the account. The cap on
 * a policy's examples is checked inside the INSERT that adds a batch (D1 runs one statement at a time), so racing
 * uploads cannot pass it, and a batch is stored whole or not at all.
 */
export class PolicyStore {
  private readonly db: D1Database;

  constructor(db: D1Database) {
    this.db = db;
  }

  /** Inserts the policy unless the account already holds `max`; false when refused. */
  async create(policy: Omit<PolicyRow, "created" | "calibrations">, max: number): Promise<boolean> {
    const now = Date.now();
    const result = await this.db
      .prepare(
        `INSERT INTO moderation_policies (id, account, name, categories, created_at, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?5 WHERE (SELECT count(*) FROM moderation_policies WHERE account = ?2) < ?6`,
      )
      .bind(policy.id, policy.account, policy.name, JSON.stringify(policy.categories), now, max)
      .run();
    return result.meta.changes === 1;
  }

  async get(account: string, id: string): Promise<PolicyRow | undefined> {
    const row = await this.db
      .prepare(
        "SELECT id, account, name, categories, calibration, created_at FROM moderation_policies WHERE account = ?1 AND id = ?2",
      )
      .bind(account, id)
      .first<Record<string, unknown>>();
    if (!row) return undefined;
    return {
      id: String(row.id),
      account: String(row.account),
      name: String(row.name),
      categories: JSON.parse(String(row.categories)) as PolicyCategoryRow[],
      calibrations: row.calibration
        ? (JSON.parse(String(row.calibration)) as Record<string, StoredCalibration>)
        : {},
      created: Number(row.created_at),
    };
  }

  /** Deletes the policy and its examples; false when it was not there. */
  async delete(account: string, id: string): Promise<boolean> {
    const [deleted] = await this.db.batch([
      this.db.prepare("DELETE FROM moderation_policies WHERE account = ?1 AND id = ?2").bind(account, id),
      this.db
        .prepare("DELETE FROM moderation_examples WHERE account = ?1 AND policy_id = ?2")
        .bind(account, id),
    ]);
    return (deleted?.meta.changes ?? 0) === 1;
  }

  /** Stores the calibration for its model, beside those for other models (one statement: no lost update). */
  async saveCalibration(account: string, id: string, calibration: StoredCalibration): Promise<boolean> {
    const result = await this.db
      .prepare(
        `UPDATE moderation_policies SET calibration = json_set(COALESCE(calibration, '{}'), ?5, json(?3)), updated_at = ?4
         WHERE account = ?1 AND id = ?2`,
      )
      .bind(account, id, JSON.stringify(calibration), Date.now(), `$.${JSON.stringify(calibration.model)}`)
      .run();
    return result.meta.changes === 1;
  }

  /** Adds a batch of examples unless the policy would then hold more than `max`; false when refused. */
  async addExamples(
    account: string,
    policyId: string,
    model: string,
    examples: readonly StoredExample[],
    max: number,
  ): Promise<boolean> {
    const rows = examples.map((e) => ({ c: JSON.stringify(e.categories), e: encodeHalves(e.embedding) }));
    const result = await this.db
      .prepare(
        `INSERT INTO moderation_examples (policy_id, account, model, categories, embedding, created_at)
         SELECT ?1, ?2, ?3, json_extract(value, '$.c'), json_extract(value, '$.e'), ?4 FROM json_each(?5)
         WHERE (SELECT count(*) FROM moderation_examples WHERE account = ?2 AND policy_id = ?1) + json_array_length(?5) <= ?6
           AND EXISTS (SELECT 1 FROM moderation_policies WHERE account = ?2 AND id = ?1)`,
      )
      .bind(policyId, account, model, Date.now(), JSON.stringify(rows), max)
      .run();
    return result.meta.changes === examples.length;
  }

  /** The policy's examples; those embedded by another model than `model` are counted apart and not returned. */
  async examples(
    account: string,
    policyId: string,
    model: string,
  ): Promise<{ examples: StoredExample[]; otherModels: number }> {
    const { results } = await this.db
      .prepare(
        "SELECT model, categories, embedding FROM moderation_examples WHERE account = ?1 AND policy_id = ?2 ORDER BY seq",
      )
      .bind(account, policyId)
      .all<{ model: string; categories: string; embedding: string }>();
    const mine = results.filter((r) => r.model === model);
    return {
      examples: mine.map((r) => ({
        categories: JSON.parse(r.categories) as string[],
        embedding: decodeHalves(r.embedding),
      })),
      otherModels: results.length - mine.length,
    };
  }

  /** Per model, the examples' categories (not their embeddings): what counting them needs. */
  async exampleCategories(
    account: string,
    policyId: string,
  ): Promise<{ model: string; categories: string[] }[]> {
    const { results } = await this.db
      .prepare("SELECT model, categories FROM moderation_examples WHERE account = ?1 AND policy_id = ?2")
      .bind(account, policyId)
      .all<{ model: string; categories: string }>();
    return results.map((r) => ({ model: r.model, categories: JSON.parse(r.categories) as string[] }));
  }

  /** A page of the account's policies in id order, after the previous page's last id (without their concepts). */
  async list(
    account: string,
    after: string | undefined,
    limit: number,
  ): Promise<{ id: string; name: string; created: number }[]> {
    const { results } = await this.db
      .prepare(
        "SELECT id, name, created_at FROM moderation_policies WHERE account = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
      )
      .bind(account, after ?? "", limit)
      .all<{ id: string; name: string; created_at: number }>();
    return results.map((r) => ({ id: r.id, name: r.name, created: Number(r.created_at) }));
  }

  async exampleCount(account: string, policyId: string): Promise<number> {
    const row = await this.db
      .prepare("SELECT count(*) AS n FROM moderation_examples WHERE account = ?1 AND policy_id = ?2")
      .bind(account, policyId)
      .first<{ n: number }>();
    return Number(row?.n ?? 0);
  }

  /** Deletes every example of the policy; how many there were. */
  async deleteExamples(account: string, policyId: string): Promise<number> {
    const result = await this.db
      .prepare("DELETE FROM moderation_examples WHERE account = ?1 AND policy_id = ?2")
      .bind(account, policyId)
      .run();
    return result.meta.changes;
  }
}

function encodeHalves(embedding: Float32Array): string {
  const halves = float32ToFloat16(embedding);
  return encodeBase64(new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength));
}

function decodeHalves(text: string): Float32Array {
  const bytes = decodeBase64(text) ?? new Uint8Array(0);
  const halves = new Uint16Array(bytes.length / 2);
  new Uint8Array(halves.buffer).set(bytes);
  const embedding = float16ToFloat32(halves);
  normalizeInPlace(embedding);
  return embedding;
}
