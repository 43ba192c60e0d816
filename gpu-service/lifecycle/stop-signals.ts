// Deliberately free of heavy imports: the entry points watch for stop signals before onnxruntime and sharp load.

/** The first stop signal the process received, as a value and as an AbortSignal. */
export interface StopSignals {
  /** The first SIGTERM or SIGINT received, or undefined. */
  readonly received: NodeJS.Signals | undefined;
  /** Aborted by the first one. */
  readonly signal: AbortSignal;
  /** Calls `handler` once with the first signal: when it comes, or at once if it already came. */
  onStop(handler: (signal: NodeJS.Signals) => void): void;
}

/**
 * Catches the first SIGTERM and the first SIGINT, from the moment it is called, so that a stop during start-up is
 * the service's to handle (exit 0) rather than the default action's (killed). A second signal of the same kind is no
 * longer caught and kills at once: the escape hatch when a drain takes too long.
 *
 * @example const stops = watchStopSignals(); const { runServiceProcess } = await import("./run-process.ts");
 */
export function watchStopSignals(signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"]): StopSignals {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handlers: ((signal: NodeJS.Signals) => void)[] = [];
  for (const name of signals) {
    process.once(name, function onStopSignal() {
      if (received !== undefined) return;
      received = name;
      controller.abort(new Error(`${name} received`));
      for (const handler of handlers.splice(0)) handler(name);
    });
  }
  return {
    get received() {
      return received;
    },
    signal: controller.signal,
    onStop(handler) {
      if (received !== undefined) handler(received);
      else handlers.push(handler);
    },
  };
}
