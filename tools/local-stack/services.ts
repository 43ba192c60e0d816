// The local stack's services — the local Postgres, the GPU service and the edge — defined once for `npm start`
// (tools/start.ts) and for running a tier alone (`npm run gpu`, `npm run edge`, `npm run postgres`): their
// configuration from the environment, their commands, and what the edge needs before it starts.
import { join } from "node:path";
import { EDGE_MODEL_MODULE, writeEdgeModel } from "../build-edge-model.ts";
import { applyLocalMigrations, WRANGLER_JS } from "./bootstrap.ts";
import type { DevSecrets } from "./dev-vars.ts";
import type { ServiceSpec } from "./supervisor.ts";

/** What the local stack reads from the environment (README, "Run the stack locally"). */
export interface LocalStackConfig {
  gpuPort: number;
  edgePort: number;
  /** The local Postgres (PGlite) the edge's HYPERDRIVE binding reaches. */
  postgresPort: number;
  modelDir: string;
  /** The GPU backends `npm run edge` sends work to; `npm start` always uses its own GPU service. */
  gpuBackends: string;
  /** Holds the edge's local state (`state/`), the development key and the state file; `.wrangler` by default. */
  stackDir: string;
  /** The GPU service's DRAIN_TIMEOUT_MS (it reads the same variable): a stop waits for its drain before SIGKILL. */
  gpuDrainTimeoutMs: number;
}

export type ConfigResult = { ok: true; config: LocalStackConfig } | { ok: false; message: string };

/**
 * Checked once at start, so a typo fails with its variable's name instead of a port-in-use error from a child.
 *
 * @example readLocalStackConfig({ GPU_PORT: "9788" }) // { ok: true, config: { gpuPort: 9788, edgePort: 8787, … } }
 */
export function readLocalStackConfig(env: Record<string, string | undefined>): ConfigResult {
  const gpuPort = port(env.GPU_PORT, 8788);
  if (gpuPort === undefined) return { ok: false, message: portMessage("GPU_PORT", env.GPU_PORT) };
  const edgePort = port(env.EDGE_PORT, 8787);
  if (edgePort === undefined) return { ok: false, message: portMessage("EDGE_PORT", env.EDGE_PORT) };
  const postgresPort = port(env.POSTGRES_PORT, 5433);
  if (postgresPort === undefined)
    return { ok: false, message: portMessage("POSTGRES_PORT", env.POSTGRES_PORT) };
  const gpuDrainTimeoutMs = wholeMs(env.DRAIN_TIMEOUT_MS, 30_000);
  if (gpuDrainTimeoutMs === undefined)
    return {
      ok: false,
      message: `DRAIN_TIMEOUT_MS must be an integer in 0..600000, got "${env.DRAIN_TIMEOUT_MS}"`,
    };
  const gpuBackends = env.GPU_BACKENDS?.trim() || `http://127.0.0.1:${gpuPort}`;
  if (!gpuBackends.split(",").every((backend) => URL.canParse(backend.trim())))
    return { ok: false, message: `GPU_BACKENDS must be comma-separated URLs, got "${gpuBackends}"` };
  return {
    ok: true,
    config: {
      gpuPort,
      edgePort,
      postgresPort,
      modelDir: env.MODEL_DIR || "models/tiny-clip",
      gpuBackends,
      stackDir: env.LOCAL_STACK_DIR || ".wrangler",
      gpuDrainTimeoutMs,
    },
  };
}

/** The GPU service's own bounds for DRAIN_TIMEOUT_MS (gpu-service/config.ts). */
function wholeMs(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 && value <= 600_000 ? value : undefined;
}

function port(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? value : undefined;
}

const portMessage = (name: string, raw: string | undefined) =>
  `${name} must be a port number (1–65535), got "${raw}"`;

/** The paths the stack keeps under its directory. */
export function stackPaths(config: LocalStackConfig): {
  persistTo: string;
  postgresDir: string;
  devKeyFile: string;
  stateFile: string;
} {
  return {
    persistTo: join(config.stackDir, "state"),
    // Beside wrangler's own state (state/v3), so one folder holds everything the local edge stores.
    postgresDir: join(config.stackDir, "state", "postgres"),
    devKeyFile: join(config.stackDir, "dev-key.json"),
    stateFile: join(config.stackDir, "local-stack.json"),
  };
}

export const gpuUrl = (config: LocalStackConfig): string => `http://127.0.0.1:${config.gpuPort}`;
export const edgeUrl = (config: LocalStackConfig): string => `http://127.0.0.1:${config.edgePort}`;
/** Hyperdrive requires a password in a local connection string; PGlite ignores it. */
export const postgresUrl = (config: LocalStackConfig): string =>
  `postgres://postgres:postgres@127.0.0.1:${config.postgresPort}/postgres`;

/** wrangler dev reads the HYPERDRIVE binding's local connection string from here before wrangler.toml's line. */
export const HYPERDRIVE_LOCAL_URL_VARIABLE = "CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE";

/**
 * The local Postgres (tools/local-stack/postgres-main.ts): PGlite with pgvector, its data under the stack folder,
 * migrated before it listens, so accepting connections means ready. The edge connects on demand, so both start at
 * once, as the GPU service and the edge do.
 */
export function postgresService(config: LocalStackConfig): ServiceSpec {
  return {
    name: "postgres",
    command: process.execPath,
    args: [POSTGRES_MAIN],
    processMarkers: [POSTGRES_MAIN],
    env: { POSTGRES_PORT: String(config.postgresPort), LOCAL_STACK_DIR: config.stackDir },
    url: postgresUrl(config),
    readyPath: "",
    probe: "tcp",
  };
}

const POSTGRES_MAIN = "tools/local-stack/postgres-main.ts";

/**
 * Time a stopped GPU service has beyond its drain: closing connections and releasing the model after the last
 * request, and a loaded machine's slowness.
 */
export const GPU_STOP_MARGIN_MS = 15_000;

/**
 * The GPU service on loopback with the embedded model on the CPU. Its other variables (BATCH_SIZES, ORT_PROVIDERS,
 * DRAIN_TIMEOUT_MS …; gpu-service/README.md) pass through from the environment. A stop gives it its drain timeout
 * plus GPU_STOP_MARGIN_MS before SIGKILL, so the drain is never cut short. It runs at a lower CPU priority (nice 10)
 * than the edge: in production the tiers never share cores, and here, when the machine is saturated, the edge —
 * which decides what to shed, and answers — must not queue behind inference it is about to refuse (the GPU service
 * sheds by its own queue, however slowly it runs).
 */
/** The GPU service's CPU priority below the edge's (see gpuService). */
export const GPU_NICENESS = 10;

export function gpuService(config: LocalStackConfig, secrets: DevSecrets): ServiceSpec {
  return {
    name: "gpu",
    command: process.execPath,
    args: ["gpu-service/main.ts"],
    processMarkers: ["gpu-service/main.ts"],
    stopGraceMs: config.gpuDrainTimeoutMs + GPU_STOP_MARGIN_MS,
    niceness: GPU_NICENESS,
    env: {
      HOST: "127.0.0.1",
      PORT: String(config.gpuPort),
      MODEL_DIR: config.modelDir,
      GPU_SHARED_SECRET: secrets.GPU_SHARED_SECRET,
    },
    url: gpuUrl(config),
    readyPath: "/readyz",
  };
}

/**
 * `wrangler dev` with its local KV/D1/Durable Objects/Queues under the stack directory and its HYPERDRIVE binding on
 * the local Postgres; it reads the secrets from `.dev.vars` itself.
 */
export function edgeService(config: LocalStackConfig, gpuBackends = config.gpuBackends): ServiceSpec {
  return {
    name: "edge",
    command: process.execPath,
    args: [
      WRANGLER_JS,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(config.edgePort),
      "--persist-to",
      stackPaths(config).persistTo,
      "--show-interactive-dev-session=false",
      "--var",
      `GPU_BACKENDS:${gpuBackends}`,
    ],
    // wrangler's own processes (its bin re-spawns its dist, by its real path: node_modules may be a symlink), the
    // workerd it runs and the esbuild service it bundles with.
    processMarkers: ["node_modules/wrangler/", "workerd", "esbuild"],
    env: { [HYPERDRIVE_LOCAL_URL_VARIABLE]: postgresUrl(config) },
    url: edgeUrl(config),
    readyPath: "/healthz",
  };
}

/**
 * Before the edge starts: its bundled model module describes MODEL_DIR (vocabulary and facts must match the GPU
 * tier's model), and the local D1 has every migration.
 */
export async function prepareEdge(config: LocalStackConfig, log: (line: string) => void): Promise<void> {
  if (await writeEdgeModel(config.modelDir)) log(`${EDGE_MODEL_MODULE} now describes ${config.modelDir}`);
  await applyLocalMigrations({ persistTo: stackPaths(config).persistTo, log });
}
