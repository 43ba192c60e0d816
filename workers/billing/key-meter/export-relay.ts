import type { UsageRecord } from "../../../src/billing/index.ts";
import { EXPORT } from "./schema.ts";

/** Delay between a commit and the alarm that sends it, so a burst of requests goes out as one batch. */
export const EXPORT_DELAY_MS = 1_000;
/** A record sent but not confirmed by the consumer within this time is sent again. */
export const RESEND_AFTER_MS = 10 * 60_000;
/** Confirmed records are kept this long in the object (for support), then only the daily counters remain. */
export const KEEP_CONFIRMED_MS = 7 * 86_400_000;
/** Queues take at most 100 messages per sendBatch. */
const BATCH = 100;

export interface RelayOutcome {
  sent: number;
  /** When the alarm should run next, or undefined when nothing is left to export. */
  nextAlarmAt: number | undefined;
}

/**
 * The outbox relay, run by the object's alarm: sends pending records (and records sent long ago but never
 * confirmed) to the export queue, one message per record, then marks them sent. A send that fails throws and
 * leaves them pending; a record sent twice is harmless, because D1 inserts by record id.
 */
export async function relay(sql: SqlStorage, queue: Queue<UsageRecord>, now: number): Promise<RelayOutcome> {
  let sent = 0;
  for (;;) {
    const due = sql
      .exec<{ id: string; record: string }>(
        `SELECT id, record FROM usage_records
         WHERE export_state = ?1 OR (export_state = ?2 AND sent_at <= ?3)
         ORDER BY created_at LIMIT ?4`,
        EXPORT.pending,
        EXPORT.sent,
        now - RESEND_AFTER_MS,
        BATCH,
      )
      .toArray();
    if (due.length === 0) break;
    await queue.sendBatch(
      due.map((row) => ({ body: JSON.parse(row.record) as UsageRecord, contentType: "json" })),
    );
    // Confirmations may have arrived while the batch was in flight; those rows stay confirmed.
    for (const row of due)
      sql.exec(
        "UPDATE usage_records SET export_state = ?, sent_at = ? WHERE id = ? AND export_state < ?",
        EXPORT.sent,
        now,
        row.id,
        EXPORT.confirmed,
      );
    sent += due.length;
  }
  sql.exec(
    "DELETE FROM usage_records WHERE export_state = ? AND created_at < ?",
    EXPORT.confirmed,
    now - KEEP_CONFIRMED_MS,
  );
  const oldest = sql
    .exec<{ sent_at: number | null }>(
      "SELECT MIN(sent_at) AS sent_at FROM usage_records WHERE export_state = ?",
      EXPORT.sent,
    )
    .one().sent_at;
  return { sent, nextAlarmAt: oldest === null ? undefined : oldest + RESEND_AFTER_MS };
}

/** Marks records as stored in D1; returns how many were not confirmed before. */
export function confirm(sql: SqlStorage, ids: readonly string[]): number {
  let changed = 0;
  for (const id of ids)
    changed += sql.exec(
      "UPDATE usage_records SET export_state = ? WHERE id = ? AND export_state <> ?",
      EXPORT.confirmed,
      id,
      EXPORT.confirmed,
    ).rowsWritten;
  return changed;
}
