import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import worker from "../../../workers/index.ts";
import { TEST_API_KEY } from "./api-key.ts";
import { checkContract } from "./contract.ts";

/** The shapes world's labels (from the GPU global setup, so only in the workers-gpu project). */
export const allLabels = (): string[] => inject("shapes").map((s) => s.label);

/**
 * Calls the Worker inside workerd, waiting for its `waitUntil` work (cache writes) before returning. Sends the test
 * API key (TEST_API_KEY) unless `init` carries its own Authorization header.
 */
export async function callWorker(
  path: string,
  init: RequestInit = {},
  bindings: Partial<Env> & Record<string, unknown> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  // The same env object across calls keeps the isolate's services (LRU, breakers) as in production.
  const bindingsFor = Object.keys(bindings).length ? ({ ...env, ...bindings } as Env) : env;
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${TEST_API_KEY}`);
  const request = new Request(`https://edge.test${path}`, { ...init, headers });
  const response = await worker.fetch(request, bindingsFor, ctx);
  await waitOnExecutionContext(ctx);
  await checkContract(request, response);
  return response;
}

export function postJson(
  path: string,
  body: unknown,
  bindings: Record<string, unknown> = {},
): Promise<Response> {
  return callWorker(
    path,
    { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } },
    bindings,
  );
}

export function shape(label: string) {
  const found = inject("shapes").find((s) => s.label === label);
  if (!found) throw new Error(`no test render for ${label}`);
  return found;
}

export function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}
