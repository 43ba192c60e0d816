import { OpenAPIHono } from "@hono/zod-openapi";
import type { App, AppEnv } from "./context.ts";
import { adminAuth } from "./middleware/admin-auth/index.ts";
import { apiKeyAuth } from "./middleware/api-key/index.ts";
import { closeDatabase } from "./middleware/database/index.ts";
import { refuseOwnImageFetches } from "./middleware/image-fetch-loop/index.ts";
import { metering } from "./middleware/metering/index.ts";
import { handleError, notFound } from "./middleware/problem/index.ts";
import { requestId } from "./middleware/request-id/index.ts";
import { requestScope } from "./middleware/request-scope/index.ts";
import { shedWhenOverloaded } from "./middleware/shed-when-overloaded/index.ts";
import { shedWhenSaturated } from "./middleware/shed-when-saturated/index.ts";
import { registerComponents } from "./openapi/components.ts";
import { problemOnInvalid } from "./openapi/route.ts";
import { registerAdminKeysCreate } from "./routes/admin_keys_create.ts";
import { registerAdminKeysGet } from "./routes/admin_keys_get.ts";
import { registerAdminKeysList } from "./routes/admin_keys_list.ts";
import { registerAdminKeysRevoke } from "./routes/admin_keys_revoke.ts";
import { registerAdminUsage } from "./routes/admin_usage.ts";
import { registerHealthz } from "./routes/healthz.ts";
import { registerOpenApiJson } from "./routes/openapi_json.ts";
import { registerV1Captions } from "./routes/v1_captions.ts";
import { registerV1Classify } from "./routes/v1_classify.ts";
import { registerV1CollectionItemDelete } from "./routes/v1_collection_item_delete.ts";
import { registerV1CollectionItemGet } from "./routes/v1_collection_item_get.ts";
import { registerV1CollectionItemsDelete } from "./routes/v1_collection_items_delete.ts";
import { registerV1CollectionItemsList } from "./routes/v1_collection_items_list.ts";
import { registerV1CollectionItemsUpsert } from "./routes/v1_collection_items_upsert.ts";
import { registerV1CollectionQuery } from "./routes/v1_collection_query.ts";
import { registerV1CollectionsDelete } from "./routes/v1_collections_delete.ts";
import { registerV1CollectionsGet } from "./routes/v1_collections_get.ts";
import { registerV1CollectionsList } from "./routes/v1_collections_list.ts";
import { registerV1CollectionsPut } from "./routes/v1_collections_put.ts";
import { registerV1Embeddings } from "./routes/v1_embeddings.ts";
import { registerV1Models } from "./routes/v1_models.ts";
import { registerV1Usage } from "./routes/v1_usage.ts";
import { databaseFault } from "./services/collections/sql-client.ts";
import { provideServices } from "./services/index.ts";

/** The edge API: middleware in the order every request meets it, then one registration per route file. */
export function createApp(): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: problemOnInvalid });
  registerComponents(app.openAPIRegistry);
  app.use("*", requestId());
  app.use("*", refuseOwnImageFetches());
  app.use("*", provideServices());
  app.use("*", requestScope());
  app.use("/v1/*", shedWhenSaturated());
  app.use("/v1/*", apiKeyAuth());
  // Image work dominates what these routes cost on the GPU tier, so its queue decides.
  app.use(
    "/v1/*",
    shedWhenOverloaded({ "/v1/classify": "/v1/embed/images", "/v1/captions": "/v1/captions" }),
  );
  app.use("/v1/*", metering());
  app.use("/v1/*", closeDatabase());
  app.use("/admin/*", adminAuth());
  registerHealthz(app);
  registerV1Models(app);
  registerV1Classify(app);
  registerV1Embeddings(app);
  registerV1Captions(app);
  registerV1Usage(app);
  registerV1CollectionsPut(app);
  registerV1CollectionsList(app);
  registerV1CollectionsGet(app);
  registerV1CollectionsDelete(app);
  registerV1CollectionItemsUpsert(app);
  registerV1CollectionItemsDelete(app);
  registerV1CollectionItemsList(app);
  registerV1CollectionItemGet(app);
  registerV1CollectionItemDelete(app);
  registerV1CollectionQuery(app);
  registerAdminKeysCreate(app);
  registerAdminKeysList(app);
  registerAdminKeysGet(app);
  registerAdminKeysRevoke(app);
  registerAdminUsage(app);
  registerOpenApiJson(app);
  app.notFound(notFound(() => app.routes));
  app.onError(handleError(console.error, console.info, [databaseFault]));
  return app;
}
