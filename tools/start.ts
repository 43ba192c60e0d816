// npm start — the whole local stack. Starts each service, prints where it listens, and stops everything on Ctrl-C
// (or when any service exits).
import { type ChildProcess, spawn } from "node:child_process";

interface Service {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** A URL that answers 200 once the service is up. */
  readyUrl: string;
}

const EDGE_PORT = Number(process.env.EDGE_PORT ?? 8787);

const services: Service[] = [
  {
    name: "edge",
    command: "wrangler",
    args: ["dev", "--ip", "127.0.0.1", "--port", String(EDGE_PORT), "--persist-to", ".wrangler/state", "--show-interactive-dev-session=false"],
    readyUrl: `http://127.0.0.1:${EDGE_PORT}/healthz`,
  },
];

const children: ChildProcess[] = [];
let stopping = false;

function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null))).then(() => process.exit(code));
}

process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

async function waitUntilReady(service: Service, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${service.name} exited with code ${child.exitCode}`);
    const ok = await fetch(service.readyUrl).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${service.name} did not answer ${service.readyUrl} within 120 s`);
}

for (const service of services) {
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
  try {
    await waitUntilReady(service, child);
  } catch (error) {
    console.error(`[start] ${(error as Error).message}`);
    stopAll(1);
  }
}

console.log(`
clip-edge is running (Ctrl-C stops everything):
  edge API   http://127.0.0.1:${EDGE_PORT}

Try it:
  curl -s http://127.0.0.1:${EDGE_PORT}/healthz
`);
