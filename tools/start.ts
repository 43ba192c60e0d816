// npm start — the whole local stack, supervised: the GPU service (embedded model, CPU) on 127.0.0.1:8788 and the edge
// Worker (wrangler dev, local KV/D1/Durable Objects under .wrangler/state) on 127.0.0.1:8787, defined in
// tools/local-stack/services.ts. Prints where each listens and a ready-to-paste request. When either exits on its own
// the other keeps running (the edge answers 503 + Retry-After for GPU work meanwhile) and it is restarted with
// exponential backoff (0.5 s doubling to 30 s, from 0.5 s again after a minute up); where each process is goes in
// .wrangler/local-stack.json. One Ctrl-C (or SIGTERM) stops everything; a second one kills what is left.
// `npm run gpu` and `npm run edge` run one tier alone.
import { bootstrapLocalStack, devKeyInstructions } from "./local-stack/bootstrap.ts";
import { ensureDevVars } from "./local-stack/dev-vars.ts";
import { onStopSignals } from "./local-stack/foreground.ts";
import {
  edgeService,
  gpuService,
  gpuUrl,
  prepareEdge,
  readLocalStackConfig,
  stackPaths,
} from "./local-stack/services.ts";
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
// A second stack on the same folder would fail on the ports, then remove the first one's state file on its way out.
const running = readStackState(paths.stateFile);
if (running && running.supervisorPid !== process.pid && isRunning(running.supervisorPid)) {
  console.error(
    `[start] a stack is already running (supervisor pid ${running.supervisorPid}, ${paths.stateFile}); ` +
      "stop it first, or set LOCAL_STACK_DIR, GPU_PORT and EDGE_PORT for another one",
  );
  process.exit(1);
}
const secrets = await ensureDevVars(".dev.vars");
// The edge always calls this stack's own GPU service; GPU_BACKENDS is for `npm run edge` alone.
const gpu: ServiceSpec = gpuService(config, secrets);
const edge: ServiceSpec = edgeService(config, gpuUrl(config));

const supervisor = createSupervisor([gpu, edge], {
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
    gpuPid: supervisor.pid("gpu") ?? null,
    edgePid: supervisor.pid("edge") ?? null,
    supervisorPid: process.pid,
  });
}

let failed = false;
onStopSignals(
  (signal) => {
    log(`${signal}: stopping gpu and edge (again to kill them)`);
    void supervisor.stop();
  },
  () => {
    log("killing gpu and edge");
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
  // Both start at once; the edge answers /healthz without the GPU tier, so readiness is checked for each.
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

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
