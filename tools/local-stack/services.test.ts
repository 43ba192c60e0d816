import { describe, expect, it } from "vitest";
import type { DevSecrets } from "./dev-vars.ts";
import {
  edgeService,
  GPU_NICENESS,
  GPU_STOP_MARGIN_MS,
  gpuService,
  postgresService,
  readLocalStackConfig,
  stackPaths,
} from "./services.ts";

const SECRETS: DevSecrets = { GPU_SHARED_SECRET: "s".repeat(43), ADMIN_TOKEN: "a".repeat(43) };

describe("readLocalStackConfig", () => {
  it("defaults to the ports, model and folder npm start always used", () => {
    expect(readLocalStackConfig({})).toEqual({
      ok: true,
      config: {
        gpuPort: 8788,
        edgePort: 8787,
        postgresPort: 5433,
        modelDir: "models/tiny-clip",
        gpuBackends: "http://127.0.0.1:8788",
        stackDir: ".wrangler",
        gpuDrainTimeoutMs: 30_000,
      },
    });
  });

  it("points the edge at GPU_PORT unless GPU_BACKENDS says otherwise", () => {
    const local = readLocalStackConfig({ GPU_PORT: "9788" });
    expect(local.ok && local.config.gpuBackends).toBe("http://127.0.0.1:9788");
    const remote = readLocalStackConfig({
      GPU_PORT: "9788",
      GPU_BACKENDS: "http://10.0.0.5:8788,http://10.0.0.6:8788",
    });
    expect(remote.ok && remote.config.gpuBackends).toBe("http://10.0.0.5:8788,http://10.0.0.6:8788");
  });

  it("names the variable that is wrong", () => {
    expect(readLocalStackConfig({ EDGE_PORT: "87a7" })).toEqual({
      ok: false,
      message: 'EDGE_PORT must be a port number (1–65535), got "87a7"',
    });
    expect(readLocalStackConfig({ GPU_PORT: "70000" })).toMatchObject({ ok: false, message: /^GPU_PORT/ });
    expect(readLocalStackConfig({ POSTGRES_PORT: "0" })).toMatchObject({
      ok: false,
      message: /^POSTGRES_PORT/,
    });
    expect(readLocalStackConfig({ GPU_BACKENDS: "not a url" })).toMatchObject({
      ok: false,
      message: /^GPU_BACKENDS/,
    });
    expect(readLocalStackConfig({ DRAIN_TIMEOUT_MS: "soon" })).toEqual({
      ok: false,
      message: 'DRAIN_TIMEOUT_MS must be an integer in 0..600000, got "soon"',
    });
  });
});

describe("the service definitions", () => {
  const parsed = readLocalStackConfig({
    GPU_PORT: "9788",
    EDGE_PORT: "9787",
    POSTGRES_PORT: "9433",
    LOCAL_STACK_DIR: "/tmp/stack",
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const { config } = parsed;

  it("run the GPU service on loopback with the .dev.vars secret, ready on /readyz", () => {
    const gpu = gpuService(config, SECRETS);
    expect(gpu).toMatchObject({
      name: "gpu",
      command: process.execPath,
      args: ["gpu-service/main.ts"],
      env: {
        HOST: "127.0.0.1",
        PORT: "9788",
        MODEL_DIR: "models/tiny-clip",
        GPU_SHARED_SECRET: SECRETS.GPU_SHARED_SECRET,
      },
      url: "http://127.0.0.1:9788",
      readyPath: "/readyz",
      processMarkers: ["gpu-service/main.ts"],
    });
  });

  it("give the GPU service its drain timeout plus a margin to stop, so Ctrl-C never cuts a drain short", () => {
    expect(gpuService(config, SECRETS).stopGraceMs).toBe(30_000 + GPU_STOP_MARGIN_MS);
    // Below the edge's CPU priority: when the machine is saturated, the edge still decides and answers in time.
    expect(gpuService(config, SECRETS).niceness).toBe(GPU_NICENESS);
    expect(edgeService(config).niceness).toBeUndefined();
    const short = readLocalStackConfig({ DRAIN_TIMEOUT_MS: "5000" });
    if (!short.ok) throw new Error(short.message);
    expect(gpuService(short.config, SECRETS).stopGraceMs).toBe(5_000 + GPU_STOP_MARGIN_MS);
    // The edge has nothing to drain: the supervisor's default applies.
    expect(edgeService(config).stopGraceMs).toBeUndefined();
  });

  it("run wrangler dev with our Node, its state under the stack folder and the given GPU backends", () => {
    const edge = edgeService(config, "http://127.0.0.1:9788");
    expect(edge.command).toBe(process.execPath);
    expect(edge.args[0]).toMatch(/node_modules\/wrangler\/bin\/wrangler\.js$/);
    expect(edge.args.slice(1).join(" ")).toBe(
      "dev --ip 127.0.0.1 --port 9787 --persist-to /tmp/stack/state --show-interactive-dev-session=false " +
        "--var GPU_BACKENDS:http://127.0.0.1:9788",
    );
    expect(edge).toMatchObject({ url: "http://127.0.0.1:9787", readyPath: "/healthz" });
    // Its HYPERDRIVE binding reaches the stack's own Postgres (wrangler reads this before wrangler.toml's line).
    expect(edge.env).toEqual({
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE:
        "postgres://postgres:postgres@127.0.0.1:9433/postgres",
    });
    expect(stackPaths(config)).toEqual({
      persistTo: "/tmp/stack/state",
      postgresDir: "/tmp/stack/state/postgres",
      devKeyFile: "/tmp/stack/dev-key.json",
      stateFile: "/tmp/stack/local-stack.json",
    });
  });

  it("run the local Postgres on POSTGRES_PORT with its data under the stack folder, ready once it accepts connections", () => {
    expect(postgresService(config)).toEqual({
      name: "postgres",
      command: process.execPath,
      args: ["tools/local-stack/postgres-main.ts"],
      processMarkers: ["tools/local-stack/postgres-main.ts"],
      env: { POSTGRES_PORT: "9433", LOCAL_STACK_DIR: "/tmp/stack" },
      url: "postgres://postgres:postgres@127.0.0.1:9433/postgres",
      readyPath: "",
      probe: "tcp",
    });
  });
});
