import { createRng, mixSeed, type Rng } from "../../shapes-world/prng.ts";
import type { MixEntry } from "./args.ts";
import type { ArrivalProcess } from "./arrivals.ts";
import { type BadCase, planBadCase } from "./bad-cases.ts";
import { type ClientTarget, clientLoop, type Starter } from "./client.ts";
import type { Corpus } from "./corpus.ts";
import { type OpenLoopStats, openLoop } from "./open-loop.ts";
import type { LogicalRequest } from "./types.ts";
import { type PlannedRequest, pickRoute, planRequest } from "./workload.ts";

/** What every way of driving load shares: where to send, what to send, where requests are recorded. */
export interface Drive {
  target: ClientTarget;
  seed: number;
  mix: readonly MixEntry[];
  corpus: Corpus;
  /** The bad-input corpus, sent round-robin across all clients when the mix names `bad`. */
  bad: readonly BadCase[];
  /** The index of the next bad request (one counter for the run, so every case comes up). */
  nextBad: () => number;
  /** Tags this run's fresh texts, so they miss the text cache. */
  runTag: string;
  record: (request: LogicalRequest, plan: PlannedRequest) => void;
}

/** Seed streams: one per closed-loop client, one per calibration client, and the open loop's two. */
const CALIBRATION_STREAM = 10_000;
const OPEN_LOOP_REQUESTS = -2;
const OPEN_LOOP_ARRIVALS = -3;

/**
 * A planner: the next request by the mix's weights, its texts fresh where the workload wants new ones; `bad`
 * takes the corpus's next case.
 */
export function planner(drive: Drive, rng: Rng, tag: string): () => PlannedRequest {
  const fresh = freshTexts(rng, drive.corpus.labels, `${drive.runTag}${tag}`);
  return function nextPlan() {
    const kind = pickRoute(drive.mix, rng.next());
    if (kind !== "bad") return planRequest(kind, rng, drive.corpus, fresh);
    return planBadCase(drive.bad, drive.nextBad(), fresh);
  };
}

/**
 * `clients` closed loops until `endMs` on the run clock (each: a request, its retries, the next).
 *
 * @example await closedLoops(drive, { clients: 64, endMs: 60_000, stop, stage: "run" })
 */
export async function closedLoops(
  drive: Drive,
  how: { clients: number; endMs: number; stop: AbortSignal; stage: NonNullable<LogicalRequest["stage"]> },
): Promise<void> {
  const stream = how.stage === "calibration" ? CALIBRATION_STREAM : 0;
  // A count bound besides the clock: no client can start more than one request a millisecond.
  const maxRequests = Math.ceil(how.endMs);
  await Promise.all(
    Array.from({ length: how.clients }, (_, client) => {
      const rng = createRng(mixSeed(drive.seed, stream + client));
      return clientLoop({
        target: drive.target,
        client,
        rng,
        plan: planner(drive, rng, `${how.stage === "calibration" ? "k" : "c"}${client}`),
        endMs: how.endMs,
        maxRequests,
        stop: how.stop,
        record: drive.record,
        stage: how.stage,
      });
    }),
  );
}

/** Open-loop arrivals at `ratePerSecond` from `startMs` for `durationMs`, at most `maxInFlight` at once. */
export function openArrivals(
  drive: Drive,
  how: {
    ratePerSecond: number;
    process: ArrivalProcess;
    startMs: number;
    durationMs: number;
    maxInFlight: number;
    stop: AbortSignal;
  },
): Promise<OpenLoopStats> {
  const rng = createRng(mixSeed(drive.seed, OPEN_LOOP_REQUESTS));
  const starter: Starter = {
    target: drive.target,
    plan: planner(drive, rng, "o"),
    rng,
    stop: how.stop,
    record: drive.record,
    stage: "run",
  };
  return openLoop({ ...starter, ...how, arrivalRng: createRng(mixSeed(drive.seed, OPEN_LOOP_ARRIVALS)) });
}

/** Texts no one sent before: a pool label with this client's tag and a counter, so the text cache misses. */
function freshTexts(rng: Rng, labels: readonly string[], tag: string): () => string {
  let n = 0;
  return () => `${rng.pick(labels)} seen by soak ${tag} number ${n++}`;
}
