import { ExportedUsageRecordSchema, type UsageRecord } from "../../src/billing/index.ts";
import { UsageStore } from "./usage-store.ts";

/**
 * The export queue's consumer: writes the batch's usage records to D1 in one transaction (a record already there —
 * Queues deliver at least once, and key meters resend unconfirmed records — is skipped by its id), acknowledges
 * the batch, then tells each key's Durable Object which of its records are stored. If D1 fails the whole batch is
 * retried; if a confirmation fails the object sends those records again later, which inserts nothing new.
 *
 * @example export default { queue: (batch, env) => exportUsage(batch, env) }
 */
export async function exportUsage(
  batch: MessageBatch<unknown>,
  env: Env,
  log: (line: string) => void = console.error,
): Promise<void> {
  const valid: { message: Message<unknown>; record: UsageRecord }[] = [];
  for (const message of batch.messages) {
    const parsed = ExportedUsageRecordSchema.safeParse(message.body);
    if (parsed.success) valid.push({ message, record: parsed.data });
    else {
      // A malformed message can never succeed; retrying it would only block the queue.
      log(`usage export: dropped malformed message ${message.id}: ${parsed.error.issues[0]?.message}`);
      message.ack();
    }
  }
  try {
    await new UsageStore(env.DB).insert(valid.map((v) => v.record));
  } catch (error) {
    log(`usage export: D1 insert failed, batch retried: ${(error as Error).message}`);
    for (const { message } of valid) message.retry({ delaySeconds: 10 });
    return;
  }
  for (const { message } of valid) message.ack();
  const byKey = new Map<string, UsageRecord[]>();
  for (const { record } of valid) byKey.set(record.key_id, [...(byKey.get(record.key_id) ?? []), record]);
  await Promise.all(
    [...byKey].map(async ([keyId, records]) => {
      try {
        const meter = env.KEY_METER.get(env.KEY_METER.idFromName(keyId));
        await meter.confirmExported(records.map((r) => r.id));
      } catch (error) {
        log(
          `usage export: confirming ${records.length} record(s) of ${keyId} failed: ${(error as Error).message}`,
        );
      }
    }),
  );
}
