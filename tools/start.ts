// npm start — the whole local stack: the GPU service (embedded model, CPU) on 127.0.0.1:8788 and the edge Worker
// (wrangler dev, local KV/D1/Durable Objects under .wrangler/state) on 127.0.0.1:8787. Prints where each listens and
// a ready-to-paste request; one Ctrl-C stops both (so does either of them exiting).
import { type ChildProcess, spawn } from "node:child_process";
import { EDGE_MODEL_MODULE, writeEdgeModel } from "./build-edge-model.ts";
import { applyLocalMigrations, bootstrapLocalStack, devKeyInstructions } from "./local-stack/bootstrap.ts";
import { ensureDevVars } from "./local-stack/dev-vars.ts";

const GPU_PORT = Number(process.env.GPU_PORT ?? 8788);
const EDGE_PORT = Number(process.env.EDGE_PORT ?? 8787);
const MODEL_DIR = process.env.MODEL_DIR ?? "models/tiny-clip";

interface Service {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** A URL that answers 200 once the service is up. */
  readyUrl: string;
}

const children: ChildProcess[] = [];
let stopping = false;

function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null))).then(
    () => process.exit(code),
  );
}

process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

function launch(service: Service): ChildProcess {
  const child = spawn(service.command, service.args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...service.env },
  });
  children.push(child);
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => `[${service.name}] ${line}\n`)
      .join("");
  child.stdout?.on("data", (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on("exit", (code) => {
    if (!stopping) {
      console.error(`[start] ${service.name} exited (${code}); stopping the stack`);
      stopAll(code ?? 1);
    }
  });
  return child;
}

async function waitUntilReady(service: Service, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${service.name} exited with code ${child.exitCode}`);
    if (
      await fetch(service.readyUrl).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${service.name} did not answer ${service.readyUrl} within 180 s`);
}

const secrets = await ensureDevVars(".dev.vars");
// The edge bundles its model's vocabulary and facts; keep them in step with the GPU tier's model.
if (await writeEdgeModel(MODEL_DIR)) console.log(`[start] ${EDGE_MODEL_MODULE} now describes ${MODEL_DIR}`);
await applyLocalMigrations({ persistTo: ".wrangler/state", log: (line) => console.log(`[start] ${line}`) });
const services: Service[] = [
  {
    name: "gpu",
    command: process.execPath,
    args: ["gpu-service/main.ts"],
    env: {
      HOST: "127.0.0.1",
      PORT: String(GPU_PORT),
      MODEL_DIR,
      GPU_SHARED_SECRET: secrets.GPU_SHARED_SECRET,
    },
    readyUrl: `http://127.0.0.1:${GPU_PORT}/readyz`,
  },
  {
    name: "edge",
    command: "wrangler",
    args: [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(EDGE_PORT),
      "--persist-to",
      ".wrangler/state",
      "--show-interactive-dev-session=false",
      "--var",
      `GPU_BACKENDS:http://127.0.0.1:${GPU_PORT}`,
    ],
    readyUrl: `http://127.0.0.1:${EDGE_PORT}/healthz`,
  },
];

try {
  // Both start at once; the edge answers /healthz without the GPU tier, so readiness is checked for each.
  const started = services.map((service) => ({ service, child: launch(service) }));
  await Promise.all(started.map(({ service, child }) => waitUntilReady(service, child)));
} catch (error) {
  console.error(`[start] ${(error as Error).message}`);
  stopAll(1);
}

if (!stopping) {
  const edgeUrl = `http://127.0.0.1:${EDGE_PORT}`;
  const { devKey } = await bootstrapLocalStack({ edgeUrl, adminToken: secrets.ADMIN_TOKEN });
  console.log(`
clip-edge is running (Ctrl-C stops everything):
  edge API      ${edgeUrl}      (Cloudflare Worker via wrangler dev; KV, D1, Durable Objects, Queues in .wrangler/state)
  GPU service   http://127.0.0.1:${GPU_PORT}      (${MODEL_DIR}, CPU; signed requests only)

${devKeyInstructions(edgeUrl, devKey)}
  curl -s ${edgeUrl}/v1/classify -H "authorization: Bearer $CLIP_KEY" -F image=@examples/red-circle.jpg \\
    -F labels="red circle" -F labels="blue star" -F labels="yellow square"
`);
}
