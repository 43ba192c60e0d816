import {
  type ApiKeyRecord,
  type CreatedApiKey,
  generateApiKey,
  hashApiKey,
  keyHint,
  newKeyId,
} from "../../src/billing/index.ts";

/** A key as the Worker needs it to serve a request (no secrets). */
export interface VerifiedKey {
  id: string;
  name: string;
  account: string;
  plan: string;
  status: "active" | "revoked";
}

interface KeyRow {
  id: string;
  hint: string;
  name: string;
  account: string;
  plan: string;
  status: "active" | "revoked";
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

const COLUMNS = "id, hint, name, account, plan, status, created_at, revoked_at, last_used_at";

/** The `api_keys` table in D1, the system of record for keys. */
export class KeyStore {
  private readonly db: D1Database;

  constructor(db: D1Database) {
    this.db = db;
  }

  /** Creates a key; the returned `key` is the only time the secret exists outside the caller. */
  async create(input: { name: string; account: string; plan: string }, now: number): Promise<CreatedApiKey> {
    const key = generateApiKey();
    const row: KeyRow = {
      id: newKeyId(),
      hint: keyHint(key),
      ...input,
      status: "active",
      created_at: now,
      revoked_at: null,
      last_used_at: null,
    };
    await this.db
      .prepare(
        "INSERT INTO api_keys (id, key_hash, hint, name, account, plan, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .bind(row.id, await hashApiKey(key), row.hint, row.name, row.account, row.plan, row.status, now)
      .run();
    return { ...toRecord(row), key };
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db
      .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`)
      .bind(id)
      .first<KeyRow>();
    return row ? toRecord(row) : undefined;
  }

  async list(filter: { account?: string; limit: number }): Promise<ApiKeyRecord[]> {
    const where = filter.account === undefined ? "" : "WHERE account = ?";
    const statement = this.db.prepare(
      `SELECT ${COLUMNS} FROM api_keys ${where} ORDER BY created_at DESC, id LIMIT ?`,
    );
    const bound =
      filter.account === undefined
        ? statement.bind(filter.limit)
        : statement.bind(filter.account, filter.limit);
    return (await bound.all<KeyRow>()).results.map(toRecord);
  }

  /** Marks a key revoked (idempotent: the first revocation time stays) and returns it with its hash. */
  async revoke(id: string, now: number): Promise<{ record: ApiKeyRecord; keyHash: string } | undefined> {
    const row = await this.db
      .prepare(
        `UPDATE api_keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING ${COLUMNS}, key_hash`,
      )
      .bind(now, id)
      .first<KeyRow & { key_hash: string }>();
    return row ? { record: toRecord(row), keyHash: row.key_hash } : undefined;
  }

  async findByHash(keyHash: string): Promise<VerifiedKey | undefined> {
    const row = await this.db
      .prepare("SELECT id, name, account, plan, status FROM api_keys WHERE key_hash = ?")
      .bind(keyHash)
      .first<VerifiedKey>();
    return row ?? undefined;
  }

  /** Approximate last use: only moves forward, and callers throttle how often they write it. */
  async touch(id: string, now: number): Promise<void> {
    await this.db
      .prepare(
        "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)",
      )
      .bind(now, id)
      .run();
  }
}

function toRecord(row: KeyRow): ApiKeyRecord {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    name: row.name,
    account: row.account,
    plan: row.plan,
    status: row.status,
    hint: row.hint,
    created_at: new Date(row.created_at).toISOString(),
    revoked_at: iso(row.revoked_at),
    last_used_at: iso(row.last_used_at),
  };
}
