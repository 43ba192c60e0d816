// What the local stack's entry points share about their own lifetime: stopping on signals, and running a tier alone
// in the foreground (`npm run gpu`, `npm run edge`).
import { createSupervisor, describeEvent, type ServiceSpec } from "./supervisor.ts";

/**
 * The first SIGINT, SIGTERM or SIGHUP (terminal closed) stops in order; a second one kills whatever is left.
 *
 * @example onStopSignals((signal) => void supervisor.stop(), () => supervisor.kill())
 */
export function onStopSignals(stop: (signal: NodeJS.Signals) => void, force: () => void): void {
  let received = 0;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, function onStopSignal() {
      received += 1;
      if (received === 1) stop(signal);
      else force();
    });
  }
}

/**
 * Keeps a vanished terminal from killing the supervisor: after SIGHUP, writes to stdout/stderr fail (EIO on a tty,
 * EPIPE on a closed pipe) and an unhandled stream error would end this process mid-stop, orphaning its children.
 * Losing the remaining log lines is the lesser harm.
 *
 * @example ignoreBrokenTerminal(); onStopSignals(stop, kill);
 */
export function ignoreBrokenTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on("error", function logLost() {});
}

/**
 * Runs a tier alone — one service, or one with what it cannot work without (the edge with its local Postgres) — until
 * one of them exits or a signal stops them, then exits with its code (0 after a requested stop). No restarts: whoever
 * runs a tier alone wants to see it die. `onReady` runs once every one answers its readiness check.
 *
 * @example await runAlone([gpuService(config, secrets)], { label: "gpu.ts" })
 */
export async function runAlone(
  specs: ServiceSpec[],
  options: { label: string; onReady?: () => Promise<void> },
) {
  const log = (line: string) => console.log(`[${options.label}] ${line}`);
  const names = specs.map((spec) => spec.name).join(" and ");
  ignoreBrokenTerminal();
  const supervisor = createSupervisor(specs, {
    restart: false,
    onEvent: (event) => {
      const line = describeEvent(event);
      if (line) log(line);
    },
  });
  onStopSignals(
    (signal) => {
      log(`${signal}: stopping ${names} (again to kill ${specs.length > 1 ? "them" : "it"})`);
      void supervisor.stop();
    },
    () => supervisor.kill(),
  );
  let failed = false;
  void supervisor.done.then((reason) =>
    process.exit(reason.kind === "failed" ? reason.exitCode : Number(failed)),
  );
  try {
    if (await supervisor.start()) await options.onReady?.();
  } catch (error) {
    failed = true;
    log(`${(error as Error).message}; stopping`);
    await supervisor.stop();
  }
}
