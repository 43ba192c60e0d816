import type { Context } from "hono";
import type { Usage } from "../../../src/api/index.ts";
import type { LimitsSnapshot, Plan, StorageLimits } from "../../../src/billing/index.ts";
import type { KeyMeter } from "../../billing/key-meter/index.ts";
import { reservedUnits } from "../../billing/key-meter/reservations.ts";
import type { QuotaDimension, ReservedUnits } from "../../billing/key-meter/types.ts";
import { ApiError } from "../../errors.ts";
import { refusal } from "./refusals.ts";

// The route's side of metering: a billable route reserves what it will write, records what it served, and the
// metering middleware bills that (or lets the reservation go).

/** What a route bills: the usual units, and a collections route's item writes and queries (0 when absent). */
export type BilledUsage = Usage & { item_writes?: number; queries?: number };

/** The metering middleware's view of the request, for the helpers below (`c.get("metering")`). */
export interface MeteringState {
  keyId: string;
  plan: Plan;
  meter: DurableObjectStub<KeyMeter>;
  /** The latest limits the key's meter reported: at admission, then after each reservation. */
  snapshot: LimitsSnapshot;
  /** What this request holds with the meter, once it has reserved. */
  reservation?: { id: string; units: ReservedUnits };
  log: (line: string) => void;
}

/** The usage of a request that embeds and computes nothing (reads and management calls): its answer still says so. */
export const NO_USAGE: Usage = Object.freeze({ images: 0, texts_computed: 0, texts_cached: 0 });

/** Usage of a request, for its response and its billing record. */
export function usageOf(images: number, texts: { computed: number; cached: number }): Usage {
  return { images, texts_computed: texts.computed, texts_cached: texts.cached };
}

/**
 * Records a successful request's usage for metering, and returns it for the response body.
 *
 * @example return c.json({ results, usage: billUsage(c, { ...usageOf(2, texts), item_writes: 3, queries: 0 }) })
 */
export function billUsage<U extends BilledUsage>(c: Context, usage: U): U {
  c.set("usage", usage);
  return usage;
}

/**
 * Before a route writes state: reserves its units with the key's meter, so a request the quota cannot serve is
 * refused before anything is written (throws 429 `quota_exceeded`, with `Retry-After` and the RateLimit fields),
 * and one that passes cannot lose those units to a concurrent request before it settles. `texts` counts texts to
 * compute or read from the cache alike. Calling it again adds to the request's reservation. The metering middleware
 * consumes the reservation when it bills the request and lets it go when the request ends without billing (an
 * error, a non-2xx answer, no usage); one left behind by a Worker that died expires after a minute.
 *
 * @example await reserveUnits(c, { images: 2, item_writes: 5 }); await items.upsert(…); billUsage(c, usage)
 */
export async function reserveUnits(
  c: Context,
  units: Partial<Record<QuotaDimension, number>>,
): Promise<void> {
  const state = c.get("metering");
  if (!state) throw new Error("reserveUnits needs the metering middleware in front of the route");
  const previous = state.reservation?.units;
  const wanted = reservedUnits(units);
  const total = reservedUnits({
    images: (previous?.images ?? 0) + wanted.images,
    texts: (previous?.texts ?? 0) + wanted.texts,
    item_writes: (previous?.item_writes ?? 0) + wanted.item_writes,
    queries: (previous?.queries ?? 0) + wanted.queries,
  });
  // Known before the call: should its answer be lost, the middleware still lets whatever it holds go.
  state.reservation ??= { id: `rsv_${crypto.randomUUID().replaceAll("-", "")}`, units: reservedUnits({}) };
  const { id } = state.reservation;
  await holdWithMeter(c, state, id, total);
  state.reservation = { id, units: total };
}

/**
 * What the calling key's plan lets its account keep stored (collections, and items across them).
 *
 * @example const { collections, items } = storageLimits(c)
 */
export function storageLimits(c: Context): StorageLimits {
  const state = c.get("metering");
  if (!state) throw new Error("storageLimits needs the metering middleware in front of the route");
  return state.plan.storage_limits;
}

/** Units held for work that outlives its request: whoever does the work settles them, or lets them go. */
export interface LaterReservation {
  id: string;
  /** Lets the units go (when the work will not happen after all); never throws. */
  release(): Promise<void>;
}

/**
 * Like `reserveUnits`, for work a queue consumer will do after the request has answered (a label set too large to
 * embed within it): the units are held under a reservation of their own for `leaseMs` (at most 30 minutes), which the
 * metering middleware leaves alone; the consumer settles the work's usage against it, or releases it.
 *
 * @example const held = await reserveForLater(c, { texts: 14_000 }, 30 * 60_000); await queue.send({ reservationId: held.id })
 */
export async function reserveForLater(
  c: Context,
  units: Partial<Record<QuotaDimension, number>>,
  leaseMs: number,
): Promise<LaterReservation> {
  const state = c.get("metering");
  if (!state) throw new Error("reserveForLater needs the metering middleware in front of the route");
  const id = `rsv_${crypto.randomUUID().replaceAll("-", "")}`;
  await holdWithMeter(c, state, id, reservedUnits(units), leaseMs);
  const meter = state.meter;
  return {
    id,
    release: async () => {
      await meter.release(id).catch(() => {});
    },
  };
}

/**
 * Holds `units` under reservation `id` with the key's meter (for `leaseMs`, or the meter's default minute): throws the
 * refusal when the quota cannot hold them, and a retryable 500 when the meter does not answer.
 */
async function holdWithMeter(
  c: Context,
  state: MeteringState,
  id: string,
  units: ReservedUnits,
  leaseMs?: number,
): Promise<void> {
  const result = await state.meter
    .reserve({
      keyId: state.keyId,
      plan: state.plan,
      reservationId: id,
      units,
      ...(leaseMs ? { leaseMs } : {}),
    })
    .catch((error: unknown) => {
      state.log(
        `[${c.get("requestId")}] key meter unavailable for a reservation: ${(error as Error).message}`,
      );
      throw new ApiError("internal_error", "limits could not be checked; retry shortly", {
        retryAfterSeconds: 1,
      });
    });
  if (result.snapshot) state.snapshot = result.snapshot;
  if (!result.ok) throw refusal(result.code, state.plan, result.snapshot, result.retryAfterSeconds);
}
