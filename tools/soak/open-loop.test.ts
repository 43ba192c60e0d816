import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createRng } from "../../shapes-world/prng.ts";
import type { ClientTarget } from "./client.ts";
import { openLoop } from "./open-loop.ts";
import type { LogicalRequest } from "./types.ts";
import type { PlannedRequest } from "./workload.ts";

const USAGE = JSON.stringify({ usage: { images: 1, texts_computed: 0, texts_cached: 0 } });
let server: Server | undefined;
afterEach(() => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined))));

/** A stand-in edge: answers 200 with usage once `hold()` resolves, counting what it received. */
async function standIn(hold: () => Promise<void>) {
  const seen = { requests: 0 };
  server = createServer((request, response) => {
    seen.requests++;
    request.resume();
    void hold().then(() => response.writeHead(200, { "content-type": "application/json" }).end(USAGE));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, seen };
}

const plan = (): PlannedRequest => ({
  route: "captions",
  encoding: "json",
  images: 1,
  method: "POST",
  path: "/v1/captions",
  body: () => ({ body: "{}", headers: { "content-type": "application/json" } }),
});

function loopOn(url: string, options: { rate: number; durationMs: number; maxInFlight: number }) {
  const t0 = performance.now();
  const target: ClientTarget = {
    url,
    apiKey: "k",
    clock: () => performance.now() - t0,
    timeoutMs: 10_000,
    policy: { retries: 0, capMs: 1000 },
  };
  const recorded: LogicalRequest[] = [];
  const run = openLoop({
    target,
    plan,
    rng: createRng(1),
    arrivalRng: createRng(2),
    stop: new AbortController().signal,
    record: (request) => recorded.push(request),
    stage: "run",
    ratePerSecond: options.rate,
    process: "even",
    startMs: 0,
    durationMs: options.durationMs,
    maxInFlight: options.maxInFlight,
  });
  return { target, recorded, run };
}

describe("the open loop", () => {
  it("starts every arrival on its own, whatever the answers do, and waits for all of them", async () => {
    const edge = await standIn(async () => {});
    const { recorded, run } = loopOn(edge.url, { rate: 50, durationMs: 200, maxInFlight: 512 });
    const stats = await run;
    expect(stats).toMatchObject({ scheduled: 10, started: 10, blocked: 0, unsent: 0 });
    expect(recorded).toHaveLength(10);
    expect(edge.seen.requests).toBe(10);
    expect(recorded.every((r) => r.attempts.length === 1 && r.attempts[0]?.status === 200)).toBe(true);
    expect(new Set(recorded.map((r) => r.idempotencyKey)).size).toBe(10);
    expect(recorded.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("never has more than max-in-flight requests out, counts the arrival that waited, and the ones never sent", async () => {
    // Nothing is answered until the stage is over: the first two hold both slots, the third waits to the end.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const edge = await standIn(() => released);
    const { target, recorded, run } = loopOn(edge.url, { rate: 100, durationMs: 100, maxInFlight: 2 });
    const watch = setInterval(() => target.clock() > 150 && release(), 10);
    const stats = await run.finally(() => clearInterval(watch));
    expect(stats).toMatchObject({ scheduled: 10, started: 2, blocked: 1, unsent: 8, peakInFlight: 2 });
    expect(stats.blockedMaxMs).toBeGreaterThan(0);
    expect(edge.seen.requests).toBe(2);
    expect(recorded.map((r) => r.attempts[0]?.status)).toEqual([200, 200]);
  });
});
