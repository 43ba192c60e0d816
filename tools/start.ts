// npm start — the whole local stack, supervised: the local Postgres (PGlite with pgvector, data under
// .wrangler/state/postgres) on 127.0.0.1:5433, the GPU service (embedded model, CPU) on 127.0.0.1:8788 and the edge
// Worker (wrangler dev, local KV/D1/Durable Objects under .wrangler/state, its HYPERDRIVE binding on that Postgres) on
// 127.0.0.1:8787, defined in tools/local-stack/services.ts. Prints where each listens and a ready-to-paste request.
// When one exits on its own the others keep running (the edge answers 503 + Retry-After for GPU work meanwhile) and it
// is restarted with exponential backoff (0.5 s doubling to 30 s, from 0.5 s again after a minute up); where each
// process is goes in .wrangler/local-stack.json. One Ctrl-C (or SIGTERM) stops everything — the GPU service gets its
// drain timeout plus a margin, the edge and Postgres 10 s — and a second one kills what is left. Children that outlived
// a crashed supervisor are stopped by the next start (tools/local-stack/stale-stack.ts).
// `npm run gpu`, `npm run edge` (with its Postgres) and `npm run postgres` run one tier alone.
import { bootstrapLocalStack, devKeyInstructions } from "./local-stack/bootstrap.ts";
import { ensureDevVars } from "./local-stack/dev-vars.ts";
import { ignoreBrokenTerminal, onStopSignals } from "./local-stack/foreground.ts";
import {
  edgeService,
  gpuService,
  gpuUrl,
  postgresService,
  prepareEdge,
  readLocalStackConfig,
  stackPaths,
} from "./local-stack/services.ts";
import { describeReap, isOurSupervisor, reapStaleStack } from "./local-stack/stale-stack.ts";
import { readStackState, removeStackState, writeStackState } from "./local-stack/state-file.ts";
import { createSupervisor, describeEvent, type ServiceSpec } from "./local-stack/supervisor.ts";

const log = (line: string) => console.log(`[start] ${line}`);
const parsed = readLocalStackConfig(process.env);
if (!parsed.ok) {
  console.error(`[start] ${parsed.message}`);
  process.exit(2);
}
const { config } = parsed;
const paths = stackPaths(config);
ignoreBrokenTerminal();
const secrets = await ensureDevVars(".dev.vars");
// The edge always calls this stack's own GPU service; GPU_BACKENDS is for `npm run edge` alone.
const gpu: ServiceSpec = gpuService(config, secrets);
const edge: ServiceSpec = edgeService(config, gpuUrl(config));
const postgres: ServiceSpec = postgresService(config);

// A second stack on the same folder would fail on the ports, then remove the first one's state file on its way out.
// A state file whose supervisor is gone (or whose pid now runs something else) is what a crash left: its children may
// still hold the ports, so they are stopped first — once their command lines show they are ours.
const previous = readStackState(paths.stateFile);
if (previous && isOurSupervisor(previous.supervisorPid)) {
  console.error(
    `[start] a stack is already running (supervisor pid ${previous.supervisorPid}, ${paths.stateFile}); ` +
      "stop it first, or set LOCAL_STACK_DIR, GPU_PORT, EDGE_PORT and POSTGRES_PORT for another one",
  );
  process.exit(1);
}
if (previous) {
  for (const outcome of await reapStaleStack(previous, [postgres, gpu, edge])) {
    const line = describeReap(outcome);
    if (line) log(line);
  }
}

// Listed first, so it is spawned first; nothing waits for it, since the edge connects only when a request needs it.
const supervisor = createSupervisor([postgres, gpu, edge], {
  onEvent: (event) => {
    const line = describeEvent(event);
    if (line) log(line);
    if ((event.kind === "spawned" || event.kind === "exited") && !supervisor.stopping) recordState();
  },
});

function recordState(): void {
  writeStackState(paths.stateFile, {
    edgeUrl: edge.url,
    gpuUrl: gpu.url,
    postgresUrl: postgres.url,
    gpuPid: supervisor.pid("gpu") ?? null,
    edgePid: supervisor.pid("edge") ?? null,
    postgresPid: supervisor.pid("postgres") ?? null,
    supervisorPid: process.pid,
  });
}

let failed = false;
onStopSignals(
  (signal) => {
    log(`${signal}: stopping postgres, gpu and edge (again to kill them)`);
    void supervisor.stop();
  },
  () => {
    log("killing postgres, gpu and edge");
    supervisor.kill();
  },
);
void supervisor.done.then((reason) => {
  removeStackState(paths.stateFile);
  log("stopped");
  process.exit(reason.kind === "failed" || failed ? 1 : 0);
});

try {
  // The edge bundles its model's vocabulary and facts; keep them in step with the GPU tier's model.
  await prepareEdge(config, log);
  // All start at once; the edge answers /healthz without the GPU tier or Postgres, so readiness is checked for each.
  if (await supervisor.start()) {
    const { devKey } = await bootstrapLocalStack({
      edgeUrl: edge.url,
      adminToken: secrets.ADMIN_TOKEN,
      devKeyPath: paths.devKeyFile,
    });
    console.log(`
clip-edge is running (Ctrl-C stops everything; a service that exits is restarted):
  edge API      ${edge.url}      (Cloudflare Worker via wrangler dev; KV, D1, Durable Objects, Queues in ${paths.persistTo})
  GPU service   ${gpu.url}      (${config.modelDir}, CPU; signed requests only)
  Postgres      ${postgres.url}  (PGlite with pgvector, data in ${paths.postgresDir})
  pids          ${paths.stateFile}

${devKeyInstructions(edge.url, devKey, paths.devKeyFile)}
  curl -s ${edge.url}/v1/classify -H "authorization: Bearer $CLIP_KEY" -F image=@examples/red-circle.jpg \\
    -F labels="red circle" -F labels="blue star" -F labels="yellow square"
`);
  }
} catch (error) {
  // Children run in their own process groups and would outlive us: stop them before exiting.
  if (!supervisor.stopping) {
    failed = true;
    log(`${(error as Error).message}; stopping`);
    void supervisor.stop();
  }
}
