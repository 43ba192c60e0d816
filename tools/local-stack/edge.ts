// npm run edge — the edge tier alone, in the foreground, as `npm start` runs it: `wrangler dev` on
// 127.0.0.1:$EDGE_PORT (8787) with its local KV/D1/Durable Objects/Queues under $LOCAL_STACK_DIR/state
// (.wrangler/state), sending GPU work to $GPU_BACKENDS (http://127.0.0.1:$GPU_PORT, i.e. an `npm run gpu`). Its
// storage comes with it: the local Postgres (PGlite, data in $LOCAL_STACK_DIR/state/postgres) on 127.0.0.1:
// $POSTGRES_PORT (5433), which it starts itself — so it fails, naming the port, while an `npm start` on the same
// folder runs. Like `npm start` it first creates .dev.vars if missing, brings the bundled model module in step with
// $MODEL_DIR and applies the D1 migrations, then prints the development key. Ctrl-C stops both; neither is restarted
// when it exits, and one exiting stops the other.
import { bootstrapLocalStack, devKeyInstructions } from "./bootstrap.ts";
import { ensureDevVars } from "./dev-vars.ts";
import { runAlone } from "./foreground.ts";
import { edgeService, postgresService, prepareEdge, readLocalStackConfig, stackPaths } from "./services.ts";

const log = (line: string) => console.log(`[edge.ts] ${line}`);
const parsed = readLocalStackConfig(process.env);
if (!parsed.ok) {
  console.error(`[edge.ts] ${parsed.message}`);
  process.exit(2);
}
const { config } = parsed;
const secrets = await ensureDevVars(".dev.vars");
await prepareEdge(config, log);
const service = edgeService(config);
const postgres = postgresService(config);
await runAlone([postgres, service], {
  label: "edge.ts",
  onReady: async () => {
    const devKeyPath = stackPaths(config).devKeyFile;
    const { devKey } = await bootstrapLocalStack({
      edgeUrl: service.url,
      adminToken: secrets.ADMIN_TOKEN,
      devKeyPath,
    });
    console.log(`
edge API running on ${service.url} (wrangler dev; GPU work goes to ${config.gpuBackends}), its Postgres on
${postgres.url}. Ctrl-C stops both.

${devKeyInstructions(service.url, devKey, devKeyPath)}
`);
  },
});
