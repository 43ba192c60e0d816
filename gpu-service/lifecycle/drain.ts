import type { Server } from "node:http";
import type { DrainReport, RequestGate } from "./request-gate.ts";

/** A batching queue as the drain sees it (the embedders and the caption finder). */
export interface DrainableQueue {
  /** Batches stop waiting for company; items from admitted requests are still taken. */
  expedite(): void;
  /** Takes nothing more; resolves once what runs has finished. */
  close(): Promise<void>;
}

export interface DrainPlan {
  gate: RequestGate;
  server: Pick<Server, "close" | "closeAllConnections">;
  queues: readonly DrainableQueue[];
  /** DRAIN_TIMEOUT_MS: how long the admitted requests may take. */
  timeoutMs: number;
  /** Frees the model and the preprocessing pool, once nothing runs on them. */
  release(): Promise<void>;
  log: (message: string) => void;
}

/**
 * The service's drain, in order. At once: `/readyz` and admission close (a request arriving now is answered 503
 * `shutting_down`), the listener stops taking connections, batches stop waiting for company. Then every request
 * admitted before is finished — one still uploading its body too — or, when `timeoutMs` passes, answered 503
 * `shutting_down`. Then the remaining connections close (every answer has left by then), the queues finish what
 * still runs on the model (a model run cannot be interrupted), and the model is released. One log line at the start,
 * one at the end.
 *
 * @example process.once("SIGTERM", () => drainService(plan, "SIGTERM").then(() => process.exit(0)));
 */
export async function drainService(plan: DrainPlan, reason: string): Promise<DrainReport> {
  const { gate, server, queues, log } = plan;
  log(
    `gpu-service: ${reason}: draining ${gate.inFlight} requests in flight (drain timeout ${plan.timeoutMs} ms); ` +
      "new requests get 503 shutting_down",
  );
  const drained = gate.drain(plan.timeoutMs);
  // Node also closes the idle keep-alive connections here; busy ones stay until their answer has left.
  const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const queue of queues) queue.expedite();

  const report = await drained;
  // Only idle keep-alive connections and refused callers remain, with nothing owed to them.
  server.closeAllConnections();
  await listenerClosed;
  await Promise.all(queues.map((queue) => queue.close()));
  await plan.release();
  log(
    `gpu-service: drained in ${Math.round(report.durationMs)} ms: ${report.finished} requests finished, ` +
      `${report.cut} cut by the drain timeout; exiting`,
  );
  return report;
}
