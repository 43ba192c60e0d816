// Keeps the local stack's processes running: starts each service, waits for its readiness URL, restarts it with
// exponential backoff when it exits on its own, and stops them all (with nothing restarting behind the stop) when
// asked. Used by tools/start.ts (restarts on) and tools/local-stack/{gpu,edge}.ts (a tier alone, restarts off).
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { constants } from "node:os";
import { createInterface } from "node:readline";

/** One process of the stack, as services.ts defines it. */
export interface ServiceSpec {
  /** Short name for log prefixes and events: "gpu", "edge". */
  name: string;
  command: string;
  args: readonly string[];
  /** Added to the supervisor's own environment. */
  env?: Record<string, string>;
  /** Where the service answers, e.g. http://127.0.0.1:8788. */
  url: string;
  /** Answers 200 once the service can take work ("/readyz", "/healthz"). */
  readyPath: string;
  /**
   * How readiness is checked: "http" (the default) GETs readyPath and wants a 200; "tcp" wants the URL's host and
   * port to accept a connection (the local Postgres, which listens only once it is migrated).
   */
  probe?: "http" | "tcp";
  /**
   * How long it may take to exit after SIGTERM before its process group gets SIGKILL; SupervisorOptions.stopGraceMs
   * when unset. The GPU service's is its drain timeout plus a margin.
   */
  stopGraceMs?: number;
  /**
   * Text found in the command line of every process of its group (its entry point, the binaries it starts): how a
   * later `npm start` recognises what a crashed supervisor left running (stale-stack.ts). Unset: never recognised.
   */
  processMarkers?: readonly string[];
  /** Runs it under `nice -n N` (every thread it starts inherits it): a lower CPU priority than the other services. */
  niceness?: number;
}

export interface RestartPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  /** A child that was ready and stayed up this long starts the backoff again from firstDelayMs. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  firstDelayMs: 500,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
};

/**
 * The wait before the nth restart in a row: doubling from the first delay, capped.
 *
 * @example restartDelay(3, DEFAULT_RESTART_POLICY) // 2000
 */
export function restartDelay(restart: number, policy: RestartPolicy): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, restart - 1));
}

export type SupervisorEvent =
  | { kind: "spawned"; name: string; pid: number }
  | {
      kind: "exited";
      name: string;
      pid: number | undefined;
      code: number | null;
      signal: NodeJS.Signals | null;
      /** True when the supervisor stopped it. */
      planned: boolean;
      /** Set when it will be started again: the how-manieth restart in a row, and after how long. */
      restart?: { number: number; delayMs: number };
    }
  | {
      kind: "ready";
      name: string;
      url: string;
      /** Set after a restart: how long since the exit that took it down. */
      downMs?: number;
    }
  /** A restarted child that did not get ready in time; it is killed, and its exit restarts it. */
  | { kind: "not-ready"; name: string; url: string; waitedMs: number }
  | { kind: "failed"; name: string; message: string };

/** Why a supervisor stopped: asked to, or a service failed in a way restarts do not cover. */
export type StopReason =
  | { kind: "requested" }
  | { kind: "failed"; name: string; message: string; exitCode: number };

export interface SupervisorOptions {
  /** Restart services that exit on their own once they have been ready (default true). */
  restart?: boolean;
  policy?: RestartPolicy;
  onEvent?: (event: SupervisorEvent) => void;
  /** Each line a child prints; by default to our stdout/stderr as `[name] line`. */
  output?: (name: string, line: string, stream: "stdout" | "stderr") => void;
  readyTimeoutMs?: number;
  readyPollMs?: number;
  /** How long a child may take to exit after SIGTERM before its process group gets SIGKILL, unless its spec says. */
  stopGraceMs?: number;
}

export interface Supervisor {
  /**
   * Starts every service; true once each has answered its readiness URL. False when the stack stopped first: stop()
   * was called, or a service exited or hung before its first readiness (restarts only cover services that have run).
   */
  start(): Promise<boolean>;
  /** SIGTERM to every child, SIGKILL to whatever is left after the grace period; cancels pending restarts. */
  stop(): Promise<void>;
  /** SIGKILL every child's process group now (a second Ctrl-C); also stops. */
  kill(): void;
  /** The running child's pid, undefined while the service is down. */
  pid(name: string): number | undefined;
  readonly stopping: boolean;
  /** Resolves once every child is gone, with the reason. */
  readonly done: Promise<StopReason>;
}

interface Slot {
  spec: ServiceSpec;
  child?: ChildProcess;
  /** Resolves when the current child has exited (and its process group was swept). */
  ended: Promise<void>;
  startedAt: number;
  readyAt?: number;
  everReady: boolean;
  /** Restarts in a row without a stable run between them. */
  restarts: number;
  downSince?: number;
  timer?: NodeJS.Timeout;
}

/**
 * @example
 * const supervisor = createSupervisor([gpuService(config, secrets)], { onEvent: (e) => console.log(describeEvent(e)) });
 * if (await supervisor.start()) console.log("up");
 * process.once("SIGINT", () => supervisor.stop());
 */
export function createSupervisor(services: ServiceSpec[], options: SupervisorOptions = {}): Supervisor {
  const restartEnabled = options.restart ?? true;
  const policy = options.policy ?? DEFAULT_RESTART_POLICY;
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const readyPollMs = options.readyPollMs ?? 250;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const emit = options.onEvent ?? (() => {});
  const output = options.output ?? printOutput;
  const slots = services.map(
    (spec): Slot => ({ spec, ended: Promise.resolve(), startedAt: 0, everReady: false, restarts: 0 }),
  );
  let stopping = false;
  let failure: StopReason | undefined;
  let stopped: Promise<void> | undefined;
  let resolveDone: (reason: StopReason) => void = () => {};
  const done = new Promise<StopReason>((resolve) => {
    resolveDone = resolve;
  });
  // Children lead their own process groups, so nothing takes them down with us: if this process exits while they run
  // (an uncaught error, a write to a vanished terminal), SIGKILL their groups on the way out. A SIGKILL of this
  // process cannot be caught; the next `npm start` finds those orphans instead (stale-stack.ts).
  const killOnExit = function killChildrenOnExit() {
    for (const slot of slots) if (slot.child?.pid !== undefined) signalGroup(slot.child.pid, "SIGKILL");
  };
  process.on("exit", killOnExit);

  function launch(slot: Slot): ChildProcess | undefined {
    if (stopping) return undefined;
    const { spec } = slot;
    // Its own process group, so a terminal's Ctrl-C reaches only us (one orderly stop, no child racing ahead of
    // it) and so everything it started (wrangler's workerd) can be signalled together.
    const [command, args] = spec.niceness
      ? ["nice", ["-n", String(spec.niceness), spec.command, ...spec.args]]
      : [spec.command, spec.args];
    const child = spawn(command, args, {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...spec.env },
    });
    slot.child = child;
    slot.startedAt = Date.now();
    slot.readyAt = undefined;
    let onEnded: () => void = () => {};
    slot.ended = new Promise((resolve) => {
      onEnded = resolve;
    });
    for (const stream of ["stdout", "stderr"] as const) {
      const source = child[stream];
      if (source) createInterface({ input: source }).on("line", (line) => output(spec.name, line, stream));
    }
    let exited = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (exited) return;
      exited = true;
      childExited(slot, child, code, signal);
      onEnded();
    };
    child.once("exit", onExit);
    // A child that could not be spawned at all reports only an error, without a pid or (always) an exit.
    child.once("error", (error) => {
      if (child.pid === undefined) {
        output(spec.name, `could not start ${spec.command}: ${error.message}`, "stderr");
        onExit(null, null);
      }
    });
    if (child.pid !== undefined) emit({ kind: "spawned", name: spec.name, pid: child.pid });
    return child;
  }

  function childExited(
    slot: Slot,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    const { name } = slot.spec;
    const now = Date.now();
    if (slot.child === child) slot.child = undefined;
    // What the child left behind (wrangler's workerd holding the port) would keep its successor from starting.
    if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    const base = { kind: "exited" as const, name, pid: child.pid, code, signal };
    if (stopping) {
      emit({ ...base, planned: true });
      return;
    }
    if (!slot.everReady || !restartEnabled) {
      emit({ ...base, planned: false });
      const when = slot.everReady ? "" : " before it was ready";
      fail(slot, `${name} exited (${describeExit(code, signal)})${when}`, exitCodeOf(code, signal));
      return;
    }
    slot.downSince ??= now;
    if (slot.readyAt !== undefined && now - slot.startedAt >= policy.stableAfterMs) slot.restarts = 0;
    slot.restarts += 1;
    const delayMs = restartDelay(slot.restarts, policy);
    emit({ ...base, planned: false, restart: { number: slot.restarts, delayMs } });
    slot.timer = setTimeout(function restartService() {
      slot.timer = undefined;
      const next = launch(slot);
      if (next) void keepReady(slot, next);
    }, delayMs);
  }

  /** After a restart: a child that never gets ready is killed, so its exit brings the next restart. */
  async function keepReady(slot: Slot, child: ChildProcess): Promise<void> {
    const ready = await awaitReady(slot, child);
    if (ready || stopping || slot.child !== child || child.pid === undefined) return;
    emit({ kind: "not-ready", name: slot.spec.name, url: slot.spec.url, waitedMs: readyTimeoutMs });
    signalGroup(child.pid, "SIGKILL");
  }

  async function awaitReady(slot: Slot, child: ChildProcess): Promise<boolean> {
    const { spec } = slot;
    const url = new URL(spec.readyPath, spec.url);
    const isReady = spec.probe === "tcp" ? () => acceptsConnections(url) : () => answersOk(url.href);
    const started = Date.now();
    while (!stopping && slot.child === child) {
      if (await isReady()) {
        if (stopping || slot.child !== child) return false;
        const now = Date.now();
        slot.readyAt = now;
        slot.everReady = true;
        const downMs = slot.downSince === undefined ? undefined : now - slot.downSince;
        slot.downSince = undefined;
        emit({ kind: "ready", name: spec.name, url: spec.url, ...(downMs === undefined ? {} : { downMs }) });
        return true;
      }
      if (Date.now() - started >= readyTimeoutMs) return false;
      await new Promise((resolve) => setTimeout(resolve, readyPollMs));
    }
    return false;
  }

  function fail(slot: Slot, message: string, exitCode: number): void {
    if (stopping) return;
    failure = { kind: "failed", name: slot.spec.name, message, exitCode };
    emit({ kind: "failed", name: slot.spec.name, message });
    void stop();
  }

  async function stopSlot(slot: Slot): Promise<void> {
    const child = slot.child;
    if (!child || child.pid === undefined) return;
    const pid = child.pid;
    // The leader first, so it can shut down in order (wrangler disposes workerd, the GPU service drains).
    child.kill("SIGTERM");
    const force = setTimeout(() => signalGroup(pid, "SIGKILL"), slot.spec.stopGraceMs ?? stopGraceMs);
    await slot.ended;
    clearTimeout(force);
  }

  function stop(): Promise<void> {
    stopped ??= (async function stopAll() {
      stopping = true;
      for (const slot of slots) clearTimeout(slot.timer);
      await Promise.all(slots.map(stopSlot));
      process.off("exit", killOnExit);
      resolveDone(failure ?? { kind: "requested" });
    })();
    return stopped;
  }

  return {
    async start() {
      const started = slots.map((slot) => ({ slot, child: launch(slot) }));
      const ready = await Promise.all(
        started.map(async ({ slot, child }) => {
          if (!child) return false;
          const ok = await awaitReady(slot, child);
          if (!ok && !stopping && slot.child === child) {
            const what = slot.spec.probe === "tcp" ? "accept connections" : `answer ${slot.spec.readyPath}`;
            fail(slot, `${slot.spec.name} did not ${what} within ${seconds(readyTimeoutMs)}`, 1);
          }
          return ok;
        }),
      );
      return !stopping && ready.every(Boolean);
    },
    stop,
    kill() {
      void stop();
      for (const slot of slots) if (slot.child?.pid !== undefined) signalGroup(slot.child.pid, "SIGKILL");
    },
    pid: (name) => slots.find((slot) => slot.spec.name === name)?.child?.pid,
    get stopping() {
      return stopping;
    },
    done,
  };
}

/**
 * The one-line log message for an event, as `npm start` prints it after "[start] ".
 *
 * @example describeEvent({ kind: "ready", name: "gpu", url: "http://127.0.0.1:8788", downMs: 6300 })
 * // "gpu is ready again on http://127.0.0.1:8788 (down 6.3 s)"
 */
export function describeEvent(event: SupervisorEvent): string | undefined {
  switch (event.kind) {
    case "spawned":
      return undefined;
    case "exited": {
      const how = describeExit(event.code, event.signal);
      if (event.planned) return `${event.name} stopped (${how})`;
      // Not restarted: the "failed" event that follows says so, once.
      if (!event.restart) return undefined;
      const { number, delayMs } = event.restart;
      return `${event.name} exited (${how}); restarting in ${seconds(delayMs)} (restart ${number})`;
    }
    case "ready":
      return event.downMs === undefined
        ? `${event.name} is ready on ${event.url}`
        : `${event.name} is ready again on ${event.url} (down ${seconds(event.downMs)})`;
    case "not-ready":
      return `${event.name} was not ready on ${event.url} within ${seconds(event.waitedMs)}; killing it`;
    case "failed":
      return `${event.message}; stopping`;
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

/** What a shell would report for the child: its code, or 128 + the signal's number. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? constants.signals[signal] : undefined;
  return number ? 128 + number : 1;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function answersOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Whether the URL's host and port accept a TCP connection (closed again at once). */
function acceptsConnections(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(5_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Signals a whole process group; a group already gone (or never ours) is not an error here. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {}
}

function printOutput(name: string, line: string, stream: "stdout" | "stderr"): void {
  (stream === "stderr" ? process.stderr : process.stdout).write(`[${name}] ${line}\n`);
}
