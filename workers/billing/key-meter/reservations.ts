import { QUOTA_DIMENSIONS } from "../../../src/billing/index.ts";
import type { ReservedUnits } from "./types.ts";

/**
 * How long a reservation holds its units. Longer than any request may run (its deadline is 30 s, settling adds
 * milliseconds), so a live request never loses its units; short enough that a request whose Worker died never
 * holds quota for long. After it, the units are free again and the request, should it still settle, is checked
 * like one that never reserved.
 */
export const RESERVATION_LEASE_MS = 60_000;
/** The longest a reservation may be held: a background build's whole life, retries included. */
export const MAX_RESERVATION_LEASE_MS = 30 * 60_000;

export const NO_UNITS: ReservedUnits = { images: 0, texts: 0, item_writes: 0, queries: 0 };

/** Whole, non-negative units for every dimension. @example reservedUnits({ queries: 1 }).images === 0 */
export function reservedUnits(units: Partial<ReservedUnits>): ReservedUnits {
  const out = { ...NO_UNITS };
  for (const d of QUOTA_DIMENSIONS) {
    const n = units[d] ?? 0;
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`reserved ${d} must be a whole number ≥ 0`);
    out[d] = n;
  }
  return out;
}

/** The units held by live reservations at `now`, all of them or all but `except`. */
export function heldUnits(sql: SqlStorage, now: number, except?: string): ReservedUnits {
  return sql
    .exec<ReservedUnits>(
      `SELECT COALESCE(SUM(images), 0) AS images, COALESCE(SUM(texts), 0) AS texts,
         COALESCE(SUM(item_writes), 0) AS item_writes, COALESCE(SUM(queries), 0) AS queries
       FROM reservations WHERE expires_at > ?1 AND id <> ?2`,
      now,
      except ?? "",
    )
    .one();
}

/** A live reservation's units, or undefined when there is none (never made, consumed, released or expired). */
export function liveReservation(sql: SqlStorage, id: string, now: number): ReservedUnits | undefined {
  return sql
    .exec<ReservedUnits>(
      "SELECT images, texts, item_writes, queries FROM reservations WHERE id = ? AND expires_at > ?",
      id,
      now,
    )
    .toArray()[0];
}

/** Holds `units` under `id` until `now` + the lease, replacing what `id` held. Returns when it expires. */
export function putReservation(
  sql: SqlStorage,
  id: string,
  units: ReservedUnits,
  now: number,
  leaseMs = RESERVATION_LEASE_MS,
): number {
  const expiresAt = now + Math.min(Math.max(1, leaseMs), MAX_RESERVATION_LEASE_MS);
  sql.exec(
    `INSERT INTO reservations (id, images, texts, item_writes, queries, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (id) DO UPDATE SET images = ?2, texts = ?3, item_writes = ?4, queries = ?5, expires_at = ?6`,
    id,
    units.images,
    units.texts,
    units.item_writes,
    units.queries,
    expiresAt,
  );
  return expiresAt;
}

/** Lets a reservation go (consumed or released); returns whether there was one. */
export function dropReservation(sql: SqlStorage, id: string): boolean {
  return sql.exec("DELETE FROM reservations WHERE id = ?", id).rowsWritten > 0;
}

/** Deletes expired reservations: they hold nothing any more (`heldUnits` already ignores them). */
export function pruneReservations(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM reservations WHERE expires_at <= ?", now);
}
