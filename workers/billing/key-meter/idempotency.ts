import type { StoredResponse } from "./types.ts";

/** How long a completed request's response is replayed for its Idempotency-Key. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/**
 * How long an attempt holds its key before another may take it over (a Worker that died mid-request never
 * releases it). The old attempt can then no longer settle, so a takeover can never bill twice.
 */
export const IDEMPOTENCY_LEASE_MS = 60_000;
/** SQLite rows hold at most 2 MB in a Durable Object; bodies are stored in chunks below that. */
const CHUNK_BYTES = 1 << 20;

export type Claim =
  | { kind: "new" }
  | { kind: "replay"; response: StoredResponse }
  | { kind: "running"; retryAfterSeconds: number }
  | { kind: "mismatch" };

type Row = {
  fingerprint: string;
  owner: string;
  state: "running" | "done";
  lease_until: number;
  expires_at: number;
  status: number | null;
  headers: string | null;
};

/** What an Idempotency-Key holds now: nothing (or forgotten), a running attempt, a response, or another request. */
export function inspect(sql: SqlStorage, key: string, fingerprint: string, now: number): Claim {
  const row = sql
    .exec<Row>(
      "SELECT fingerprint, owner, state, lease_until, expires_at, status, headers FROM idempotency WHERE idem_key = ?",
      key,
    )
    .toArray()[0];
  if (!row || row.expires_at <= now) return { kind: "new" };
  if (row.fingerprint !== fingerprint) return { kind: "mismatch" };
  if (row.state === "done") return { kind: "replay", response: readResponse(sql, key, row) };
  if (row.lease_until > now)
    return { kind: "running", retryAfterSeconds: Math.max(1, Math.ceil((row.lease_until - now) / 1000)) };
  return { kind: "new" };
}

/** Takes the key for an attempt (replacing an expired or abandoned claim). */
export function claim(sql: SqlStorage, key: string, fingerprint: string, owner: string, now: number): void {
  forget(sql, key);
  sql.exec(
    `INSERT INTO idempotency (idem_key, fingerprint, owner, state, lease_until, expires_at)
     VALUES (?, ?, ?, 'running', ?, ?)`,
    key,
    fingerprint,
    owner,
    now + IDEMPOTENCY_LEASE_MS,
    now + IDEMPOTENCY_TTL_MS,
  );
}

/** True when `owner` still holds a running claim on the key (its lease may have run out but nobody took over). */
export function holds(sql: SqlStorage, key: string, owner: string): boolean {
  return (
    sql
      .exec("SELECT 1 FROM idempotency WHERE idem_key = ? AND owner = ? AND state = 'running'", key, owner)
      .toArray().length > 0
  );
}

/** Stores the response of the attempt that holds the key; replays return it for 24 h. */
export function complete(
  sql: SqlStorage,
  key: string,
  recordId: string,
  response: StoredResponse,
  now: number,
): void {
  sql.exec(
    `UPDATE idempotency SET state = 'done', record_id = ?, status = ?, headers = ?, expires_at = ?
     WHERE idem_key = ?`,
    recordId,
    response.status,
    JSON.stringify(response.headers),
    now + IDEMPOTENCY_TTL_MS,
    key,
  );
  const body = response.body;
  for (let seq = 0, offset = 0; offset < body.length || seq === 0; seq++, offset += CHUNK_BYTES)
    sql.exec(
      "INSERT INTO idempotency_body (idem_key, seq, chunk) VALUES (?, ?, ?)",
      key,
      seq,
      body.subarray(offset, offset + CHUNK_BYTES),
    );
}

/** Lets the key go if `owner` holds it and is still running (the attempt failed: nothing to replay). */
export function release(sql: SqlStorage, key: string, owner: string): void {
  if (holds(sql, key, owner)) forget(sql, key);
}

export function forget(sql: SqlStorage, key: string): void {
  sql.exec("DELETE FROM idempotency WHERE idem_key = ?", key);
  sql.exec("DELETE FROM idempotency_body WHERE idem_key = ?", key);
}

/** Deletes responses older than 24 h and claims abandoned for as long. */
export function prune(sql: SqlStorage, now: number): void {
  sql.exec(
    "DELETE FROM idempotency_body WHERE idem_key IN (SELECT idem_key FROM idempotency WHERE expires_at <= ?)",
    now,
  );
  sql.exec("DELETE FROM idempotency WHERE expires_at <= ?", now);
}

function readResponse(sql: SqlStorage, key: string, row: Row): StoredResponse {
  const chunks = sql
    .exec<{ chunk: ArrayBuffer }>("SELECT chunk FROM idempotency_body WHERE idem_key = ? ORDER BY seq", key)
    .toArray()
    .map((r) => new Uint8Array(r.chunk));
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return { status: row.status ?? 200, headers: JSON.parse(row.headers ?? "{}"), body };
}
