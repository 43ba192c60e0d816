import type { HttpBindings } from "@hono/node-server";
import type { Context, MiddlewareHandler } from "hono";
import type { Admission, RequestGate } from "../../../lifecycle/request-gate.ts";
import { problem } from "../../problem.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The request's admission: when it arrived (its deadline counts from then) and the drain's cut signal. */
    admission: Admission;
  }
}

/**
 * Decides at arrival — before the body is read or the signature checked — whether the service takes the request:
 * until SIGTERM every request is admitted and then finished, even one still uploading; after it, each is answered
 * 503 `shutting_down` with `Connection: close` so the caller retries elsewhere and drops the connection. An admitted
 * request still unfinished when the drain timeout passes is answered the same way at once.
 *
 * @example app.use("/v1/*", admitUntilDrain(gate)); app.use("/v1/*", verifySignature(…));
 */
export function admitUntilDrain(gate: RequestGate): MiddlewareHandler {
  return async function admitUntilDrainMiddleware(c, next) {
    const admission = gate.admit();
    if (!admission) return shuttingDown(c, "this instance is draining; retry on another");
    c.set("admission", admission);
    // Done once the answer has left the socket, so the drain never closes a connection under an answer being written.
    // Without node-server's response (app.request in tests) the handler's return has to do.
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
    outgoing?.once("close", admission.done);
    const cut = whenAborted(admission.cut);
    try {
      const handled = next();
      if ((await Promise.race([handled, cut.promise])) === CUT) {
        // The handler goes on in the background (a body still arriving, a batch running) with nobody waiting.
        handled.catch(() => {});
        return shuttingDown(c, "this instance stopped before the request finished; retry on another");
      }
    } finally {
      cut.dispose();
      if (!outgoing) admission.done();
    }
  };
}

function shuttingDown(c: Context, detail: string): Response {
  c.header("connection", "close");
  return problem(c, "shutting_down", detail, 1);
}

const CUT = Symbol("cut");

function whenAborted(signal: AbortSignal): { promise: Promise<typeof CUT>; dispose(): void } {
  let onAbort: (() => void) | undefined;
  const promise = new Promise<typeof CUT>((resolve) => {
    onAbort = () => resolve(CUT);
    if (signal.aborted) resolve(CUT);
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return { promise, dispose: () => onAbort && signal.removeEventListener("abort", onAbort) };
}
