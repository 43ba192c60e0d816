import { createApp } from "./app.ts";
import { exportUsage } from "./billing/export-consumer.ts";

// The Worker's entry: the app, the billing export's queue consumer, and the Durable Object class. Everything the
// Workers runtime alone can load (`cloudflare:workers`) is reached from here only, so app.ts — and with it every
// route definition — loads in Node too (`npm run openapi`).
export { KeyMeter } from "./billing/key-meter/index.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => exportUsage(batch, env),
} satisfies ExportedHandler<Env>;
