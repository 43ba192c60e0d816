import { Hono } from "hono";
import { handleError, notFound } from "./middleware/problem/index.ts";
import { requestId } from "./middleware/request-id/index.ts";
import { registerHealthz } from "./routes/healthz.ts";
import { registerV1Classify } from "./routes/v1_classify.ts";
import { registerV1Embeddings } from "./routes/v1_embeddings.ts";
import { registerV1Models } from "./routes/v1_models.ts";
import { provideServices } from "./services/index.ts";

/** The edge API: middleware in the order every request meets it, then one registration per route file. */
export function createApp(): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>();
  app.use("*", requestId());
  app.use("*", provideServices());
  registerHealthz(app);
  registerV1Models(app);
  registerV1Classify(app);
  registerV1Embeddings(app);
  app.notFound(notFound);
  app.onError(handleError());
  return app;
}

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
