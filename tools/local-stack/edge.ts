// npm run edge — the edge tier alone, in the foreground, as `npm start` runs it: `wrangler dev` on
// 127.0.0.1:$EDGE_PORT (8787) with its local KV/D1/Durable Objects/Queues under $LOCAL_STACK_DIR/state
// (.wrangler/state), sending GPU work to $GPU_BACKENDS (http://127.0.0.1:$GPU_PORT, i.e. an `npm run gpu`). Like
// `npm start` it first creates .dev.vars if missing, brings the bundled model module in step with $MODEL_DIR and
// applies the D1 migrations, then prints the development key. Ctrl-C stops it; it is not restarted when it exits.
import { bootstrapLocalStack, devKeyInstructions } from "./bootstrap.ts";
import { ensureDevVars } from "./dev-vars.ts";
import { runAlone } from "./foreground.ts";
import { edgeService, prepareEdge, readLocalStackConfig, stackPaths } from "./services.ts";

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
await runAlone(service, {
  label: "edge.ts",
  onReady: async () => {
    const devKeyPath = stackPaths(config).devKeyFile;
    const { devKey } = await bootstrapLocalStack({
      edgeUrl: service.url,
      adminToken: secrets.ADMIN_TOKEN,
      devKeyPath,
    });
    console.log(`
edge API running on ${service.url} (wrangler dev; GPU work goes to ${config.gpuBackends}). Ctrl-C stops it.

${devKeyInstructions(service.url, devKey, devKeyPath)}
`);
  },
});
