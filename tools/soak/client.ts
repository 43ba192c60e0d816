import { setTimeout as sleep } from "node:timers/promises";
import type { Rng } from "../../shapes-world/prng.ts";
import { findLeak } from "./bad-judge.ts";
import { parseRetryAfter, type RetryPolicy, retryDelayMs } from "./retry.ts";
import type { Attempt, LogicalRequest, UsageUnits } from "./types.ts";
import type { PlannedRequest } from "./workload.ts";

/** Where and how clients send. `clock()` is ms since the run started. */
export interface ClientTarget {
  url: string;
  apiKey: string;
  clock: () => number;
  timeoutMs: number;
  policy: RetryPolicy;
}

/**
 * Sends one attempt and classifies what came back. Never throws: a failure to get an answer is an outcome too.
 * The harness sends its own X-Request-Id (the edge keeps an acceptable caller id and bills under it), so even an
 * attempt whose answer was lost can be matched to its usage record.
 */
export async function sendAttempt(
  target: ClientTarget,
  request: LogicalRequest,
  plan: PlannedRequest,
  phase: Attempt["phase"],
  stop: AbortSignal,
): Promise<Attempt> {
  // A bad case may share its Idempotency-Key (and client and seq) with its prelude: "b" keeps the ids apart.
  const requestId = `soak.${request.idempotencyKey.slice(0, 8)}.${request.client}.${request.seq}${request.bad ? "b" : ""}.${request.attempts.length}`;
  const startMs = target.clock();
  // AbortSignal.timeout takes whole milliseconds only.
  const timeout = AbortSignal.timeout(Math.max(1, Math.round(target.timeoutMs)));
  const { body, headers } = plan.body();
  const base = { requestId, startMs, replayed: false, phase, bodyBytes: bodySize(body) } as const;
  const idempotency = plan.idempotencyHeader === undefined ? request.idempotencyKey : plan.idempotencyHeader;
  try {
    const response = await fetch(new URL(plan.path, target.url), {
      method: plan.method,
      headers: {
        ...headers,
        authorization: `Bearer ${target.apiKey}`,
        ...(idempotency === null ? {} : { "idempotency-key": idempotency }),
        "x-request-id": requestId,
      },
      body,
      signal: AbortSignal.any([stop, timeout]),
    });
    const text = await response.text();
    return {
      ...base,
      ...readAnswer(response, text),
      endMs: target.clock(),
      answeredRequestId: response.headers.get("x-request-id") ?? undefined,
      replayed: response.headers.get("idempotent-replayed") === "true",
      retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after"), Date.now()),
    };
  } catch {
    const noAnswer = stop.aborted ? "hard_stop" : timeout.aborted ? "timeout" : "connection";
    return { ...base, endMs: target.clock(), noAnswer };
  }
}

/** Bytes of a body; for a form, its parts' bytes (the boundaries and part headers add a few hundred). */
function bodySize(body: string | FormData | Uint8Array | undefined): number {
  if (body === undefined) return 0;
  if (typeof body === "string") return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.length;
  let size = 0;
  for (const [, value] of body.entries())
    size += typeof value === "string" ? Buffer.byteLength(value) : value.size;
  return size;
}

/** Status, problem code and detail, usage of an answer, and what is wrong with its form if anything. */
export function readAnswer(
  response: { status: number; headers: Headers },
  text: string,
): Pick<Attempt, "status" | "code" | "usage" | "malformed" | "detail" | "leak"> {
  const status = response.status;
  const contentType = response.headers.get("content-type") ?? "";
  const json = parseJson(text);
  if (status >= 400) {
    const { code, detail } = (json ?? {}) as { code?: unknown; detail?: unknown };
    const leak = findLeak(text);
    if (!/^application\/problem\+json\b/i.test(contentType) || typeof code !== "string")
      return {
        status,
        malformed: `${status} is not a problem+json with a code (content-type "${contentType}")`,
        ...(leak ? { leak } : {}),
      };
    return {
      status,
      code,
      ...(typeof detail === "string" ? { detail: detail.slice(0, 300) } : {}),
      ...(leak ? { leak } : {}),
    };
  }
  if (status < 200 || status >= 300) return { status, malformed: `unexpected status ${status}` };
  const usage = usageOf((json as { usage?: unknown } | undefined)?.usage);
  return usage ? { status, usage } : { status, malformed: `${status} without a valid usage member` };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function usageOf(value: unknown): UsageUnits | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { images, texts_computed, texts_cached } = value as Record<string, unknown>;
  const count = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  return count(images) && count(texts_computed) && count(texts_cached)
    ? { images, texts_computed, texts_cached }
    : undefined;
}

/**
 * Sends a logical request until it gets a final answer, retrying with the same Idempotency-Key as the retry
 * policy allows. Every attempt is appended to `request.attempts`. Bounded by the retry count and by `stop`.
 */
export async function sendWithRetries(
  target: ClientTarget,
  request: LogicalRequest,
  plan: PlannedRequest,
  phase: Attempt["phase"],
  rng: Rng,
  stop: AbortSignal,
): Promise<void> {
  for (let retries = 0; ; retries++) {
    const attempt = await sendAttempt(target, request, plan, phase, stop);
    request.attempts.push(attempt);
    const wait = retryDelayMs(attempt, retries, target.policy, rng.next());
    if (wait === undefined || stop.aborted) return;
    try {
      await sleep(wait, undefined, { signal: stop });
    } catch {
      return; // the hard stop: the request ends with its last attempt
    }
  }
}

/** What a loop needs to start requests: a plan, and where each request is recorded. */
export interface Starter {
  target: ClientTarget;
  /** The next request to send (its route picked by the mix). */
  plan: () => PlannedRequest;
  rng: Rng;
  /** Aborts everything in flight: the run's hard stop. */
  stop: AbortSignal;
  /** Receives each logical request as it starts (attempts are appended as they happen). */
  record: (request: LogicalRequest, plan: PlannedRequest) => void;
  stage?: LogicalRequest["stage"];
}

/**
 * Sends one planned request with its retries. A plan with a prelude (the key-reuse case) first sends the prelude
 * under the same Idempotency-Key, as a request of its own; the case follows only once the prelude was served, so
 * its 422 is about the key and nothing else.
 */
export async function startRequest(start: Starter, client: number, seq: number): Promise<void> {
  const plan = start.plan();
  const idempotencyKey = crypto.randomUUID();
  const send = async (p: PlannedRequest) => {
    const request: LogicalRequest = {
      client,
      seq,
      route: p.route,
      ...(p.bad ? { bad: p.bad } : {}),
      ...(start.stage ? { stage: start.stage } : {}),
      encoding: p.encoding,
      idempotencyKey,
      images: p.images,
      attempts: [],
    };
    start.record(request, p);
    await sendWithRetries(start.target, request, p, "run", start.rng, start.stop);
    return request;
  };
  if (plan.prelude) {
    const prelude = await send(plan.prelude);
    const served = prelude.attempts.some((a) => a.status !== undefined && a.status >= 200 && a.status < 300);
    if (!served || start.stop.aborted) return;
  }
  await send(plan);
}

export interface ClientLoop extends Starter {
  client: number;
  /** Run time (ms) after which no new request starts. */
  endMs: number;
  /** A bound on requests per client, whatever the clock does. */
  maxRequests: number;
}

/** One client: a request, its retries, the next request, until the run's end. */
export async function clientLoop(loop: ClientLoop): Promise<void> {
  for (let seq = 0; seq < loop.maxRequests && loop.target.clock() < loop.endMs && !loop.stop.aborted; seq++)
    await startRequest(loop, loop.client, seq);
}

/**
 * True when a request ended without knowing whether it was served: no answer, still running elsewhere (409), or
 * the edge's "could not be billed, retry with the same Idempotency-Key" (500). A client settles those by asking
 * again with the same key; the harness does it once the run is over.
 */
export function isAmbiguous(request: LogicalRequest): boolean {
  if (request.attempts.some((a) => a.status !== undefined && a.status >= 200 && a.status < 300)) return false;
  const last = request.attempts.at(-1);
  return last !== undefined && (last.noAnswer !== undefined || last.status === 409 || last.status === 500);
}

/** Concurrent requests while settling ambiguous outcomes after the run, and the longest it may take. */
const RESOLVE_CONCURRENCY = 8;
const RESOLVE_LIMIT_MS = 600_000;

/**
 * Asks again, with the same Idempotency-Key, for every request that ended without knowing whether it was served,
 * as a phone does on its next launch: a replay is the answer it missed, a fresh execution bills once. Bounded by
 * 10 retries per request, and in all by one timeout plus 30 s, plus a second per request to settle (an overload
 * run can leave hundreds, each of which may have to wait out its first attempt) — at most 10 minutes.
 */
export async function resolveAmbiguous(
  requests: readonly LogicalRequest[],
  plans: Map<LogicalRequest, PlannedRequest>,
  target: ClientTarget,
  rng: Rng,
  timeoutSeconds: number,
): Promise<void> {
  const pending = requests.filter(isAmbiguous);
  const budgetMs = (timeoutSeconds + 30 + pending.length) * 1000;
  const stop = AbortSignal.timeout(Math.round(Math.min(budgetMs, RESOLVE_LIMIT_MS)));
  // A lease of an attempt the client gave up on lasts up to 60 s: allow more, longer retries than the run did.
  const patient: ClientTarget = { ...target, policy: { retries: 10, capMs: target.policy.capMs } };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(RESOLVE_CONCURRENCY, pending.length) }, async () => {
      while (next < pending.length && !stop.aborted) {
        const request = pending[next++] as LogicalRequest;
        await sendWithRetries(patient, request, plans.get(request) as PlannedRequest, "resolve", rng, stop);
      }
    }),
  );
}
