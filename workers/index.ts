import { createApp } from "./app.ts";
import { exportUsage } from "./billing/export-consumer.ts";
import { purgeCollections, wakePurge } from "./services/collections/purge.ts";
import { buildLabelSets } from "./services/label-sets/build-queue.ts";

// The Worker's entry: the app, the queue consumers (billing export, collection purge, label-set builds), the cron
// trigger that wakes the purge as a safety net, and the Durable Object class. Everything the Workers runtime alone
// can load (`cloudflare:workers`) is reached from here only, so app.ts — and with it every route definition — loads
// in Node too (`npm run openapi`).
export { KeyMeter } from "./billing/key-meter/index.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  // One consumer per queue, told apart by the queue's name (wrangler.toml).
  queue: (batch, env, ctx) =>
    batch.queue === "clip-edge-collection-purge"
      ? purgeCollections(batch, env)
      : batch.queue === "clip-edge-label-set-build"
        ? buildLabelSets(batch, env, ctx)
        : exportUsage(batch, env),
  // wrangler.toml's cron: a wake-up lost, or a message past its retries, leaves deleted items until the next tick.
  scheduled: (_controller, env, ctx) => ctx.waitUntil(wakePurge(env)),
} satisfies ExportedHandler<Env>;
