// npm run gpu — the GPU tier alone, in the foreground, as `npm start` runs it: gpu-service/main.ts on
// 127.0.0.1:$GPU_PORT (8788) with $MODEL_DIR (models/tiny-clip) on the CPU, verifying requests with the
// GPU_SHARED_SECRET from .dev.vars (created if missing), so an `npm run edge` started separately can call it. Other
// GPU service variables (gpu-service/README.md) pass through. Ctrl-C stops it; it is not restarted when it exits.
import { ensureDevVars } from "./dev-vars.ts";
import { runAlone } from "./foreground.ts";
import { gpuService, readLocalStackConfig } from "./services.ts";

const parsed = readLocalStackConfig(process.env);
if (!parsed.ok) {
  console.error(`[gpu.ts] ${parsed.message}`);
  process.exit(2);
}
const { config } = parsed;
const secrets = await ensureDevVars(".dev.vars");
const service = gpuService(config, secrets);
await runAlone([service], {
  label: "gpu.ts",
  onReady: async () => {
    console.log(`
GPU service running on ${service.url} (${config.modelDir}, CPU; signed requests only, secret in .dev.vars).
Ctrl-C stops it. An edge for it: npm run edge (GPU_BACKENDS defaults to this port).
`);
  },
});
