import type { Context } from "hono";
import { waitUntilOf } from "../../context.ts";
import { CollectionStore } from "./collection-store.ts";
import { openSqlClient } from "./sql-client.ts";

/** Items deleted per statement, and statements per queue message: bounded work, so no call ever runs long. */
export const PURGE_BATCH = 1000;
export const PURGE_STEPS_PER_MESSAGE = 20;

/**
 * Wakes the purge: a message on its queue, whose one consumer at a time purges whatever is deleted (the message
 * carries nothing). Never throws: a lost wake-up is made good by the next one — another delete, or the cron trigger.
 */
export function wakePurge(env: Env, log: (line: string) => void = console.error): Promise<void> {
  return env.COLLECTION_PURGE.send({ woken: Date.now() }).then(
    () => undefined,
    (error: unknown) => log(`collection purge could not be woken: ${(error as Error).message}`),
  );
}

/** Wakes the purge after a collection was deleted, once the answer is on its way (the delete is done either way). */
export function purgeDeletedCollections(c: Context): void {
  waitUntilOf(c)(wakePurge(c.env));
}

/**
 * The purge queue's consumer: deletes deleted collections' items, PURGE_BATCH at a time, at most
 * PURGE_STEPS_PER_MESSAGE statements per message, and sends itself another message while anything is left. A
 * failure retries the message; a purge that was interrupted just goes on from where the rows are.
 *
 * @example export default { queue: (batch, env) => purgeCollections(batch, env) }
 */
export async function purgeCollections(
  batch: MessageBatch<unknown>,
  env: Env,
  log: (line: string) => void = console.error,
): Promise<void> {
  const client = openSqlClient(env.HYPERDRIVE);
  try {
    const store = new CollectionStore(client.sql);
    let more = false;
    for (let step = 0; step < PURGE_STEPS_PER_MESSAGE; step++) {
      ({ more } = await store.purge(PURGE_BATCH));
      if (!more) break;
    }
    if (more) await env.COLLECTION_PURGE.send({ woken: Date.now() });
    batch.ackAll();
  } catch (error) {
    log(`collection purge failed, retried: ${(error as Error).message}`);
    batch.retryAll({ delaySeconds: 10 });
  } finally {
    await client.close();
  }
}
