import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { waitFor } from "../support/wait.ts";

/** Opens a raw connection, declares a 10 MB body, sends part of it, and goes away. */
async function sendHalfAndLeave(
  stack: EdgeStack,
  path: string,
  contentType: string,
  extra: Record<string, string> = {},
): Promise<void> {
  const url = new URL(stack.edgeUrl);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise((resolve) => socket.once("connect", resolve));
  const headers = Object.entries({
    ...stack.apiHeaders,
    ...extra,
    "content-type": contentType,
    "content-length": "10000000",
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.write(`POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\n${headers}\r\n`);
  await new Promise<void>((resolve) => socket.write(Buffer.alloc(1_000_000, 0x20), () => resolve()));
  socket.destroy();
}

describe("a client that disconnects mid-body", () => {
  let stack: EdgeStack;
  beforeAll(async () => {
    stack = await startEdgeStack();
  }, 180_000);
  afterAll(() => stack?.stop());

  it("ends quietly: one info line per request, no unhandled error, nothing billed", async () => {
    await sendHalfAndLeave(stack, "/v1/embeddings", "application/json");
    await sendHalfAndLeave(stack, "/v1/classify", "multipart/form-data; boundary=x");
    // With an Idempotency-Key the body is first read to fingerprint the request: the same quiet end.
    await sendHalfAndLeave(stack, "/v1/embeddings", "application/json", { "idempotency-key": "gone-1" });
    const dropped = () => stack.logs.filter((line) => line.includes("stopped sending its body"));
    await waitFor("all three requests to be dropped", () => dropped().length === 3, { timeoutMs: 30_000 });
    expect(stack.logs.filter((line) => /unhandled|uncaught/i.test(line))).toEqual([]);
    const usage = await fetch(`${stack.edgeUrl}/v1/usage`, { headers: stack.apiHeaders });
    expect(((await usage.json()) as { totals: { requests: number } }).totals.requests).toBe(0);
    // The edge goes on serving.
    expect((await fetch(`${stack.edgeUrl}/healthz`)).status).toBe(200);
  }, 120_000);
});
