import { DurableObject } from "cloudflare:workers";
import { buildUsageRecord, monthOf, secondsUntilMonthEnds, take } from "../../../src/billing/index.ts";
import { confirm, EXPORT_DELAY_MS, relay } from "./export-relay.ts";
import * as idempotency from "./idempotency.ts";
import {
  commitRecord,
  exceeded,
  markRevoked,
  monthUsage,
  precheckRefuses,
  quotaUnits,
  readState,
  recordExists,
  saveBucket,
  snapshot,
  taken,
} from "./ledger.ts";
import {
  dropReservation,
  liveReservation,
  pruneReservations,
  putReservation,
  reservedUnits,
} from "./reservations.ts";
import { migrateKeyMeter } from "./schema.ts";
import type {
  AdmitInput,
  AdmitResult,
  DailyUsage,
  KeyUsageReport,
  ReserveInput,
  ReserveResult,
  SettleInput,
  SettleResult,
} from "./types.ts";

export type * from "./types.ts";

/** Retry an export that failed after this long (alarms also retry on their own, but only a few times). */
const EXPORT_RETRY_MS = 30_000;

/**
 * One API key's limits and bill, with strong consistency: a Durable Object per key (named by the key id) whose
 * SQLite storage holds the token bucket, this month's counters, the units reserved by requests that write state,
 * every billed request (an outbox exported to D1), and the Idempotency-Key claims and responses. Each method runs its checks and writes in one synchronous
 * transaction, and the runtime does not deliver its answer before those writes are durable — so a request the
 * Worker answers 2xx is recorded before the answer leaves, once.
 *
 * The plan is passed by the Worker with each call (the object holds counters, not configuration).
 */
export class KeyMeter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Before any call is delivered: an object created under an older schema is brought up to date in place.
    migrateKeyMeter(ctx.storage);
  }

  /**
   * Before a request runs: refuses a revoked key, takes a token from the bucket, answers an Idempotency-Key that
   * completed (replay) or is running (409) or was used for another request (422), refuses a route that cannot
   * succeed with the quota left, and claims the Idempotency-Key for this attempt.
   */
  admit(input: AdmitInput): AdmitResult {
    const now = Date.now();
    return this.ctx.storage.transactionSync((): AdmitResult => {
      const state = readState(this.sql);
      if (state.revokedAt !== null) return { ok: false, code: "revoked_api_key" };
      const limits = { ratePerSecond: input.plan.requests_per_second, burst: input.plan.burst };
      const bucket = take(state.bucket, limits, now);
      saveBucket(this.sql, input.keyId, bucket.state);
      if (!bucket.allowed)
        return {
          ok: false,
          code: "rate_limited",
          retryAfterSeconds: bucket.retryAfterSeconds,
          snapshot: snapshot(this.sql, input.plan, now),
        };
      const idem = input.idempotency;
      if (idem) {
        const held = idempotency.inspect(this.sql, idem.key, idem.fingerprint, now);
        if (held.kind === "mismatch")
          return { ok: false, code: "idempotency_key_reused", snapshot: snapshot(this.sql, input.plan, now) };
        if (held.kind === "running")
          return {
            ok: false,
            code: "idempotency_in_progress",
            retryAfterSeconds: held.retryAfterSeconds,
            snapshot: snapshot(this.sql, input.plan, now),
          };
        if (held.kind === "replay")
          return { ok: true, snapshot: snapshot(this.sql, input.plan, now), replay: held.response };
      }
      if (input.precheck && precheckRefuses(input.precheck, input.plan, taken(this.sql, now)))
        return {
          ok: false,
          code: "quota_exceeded",
          retryAfterSeconds: secondsUntilMonthEnds(now),
          snapshot: snapshot(this.sql, input.plan, now),
        };
      if (idem) idempotency.claim(this.sql, idem.key, idem.fingerprint, idem.owner, now);
      return { ok: true, snapshot: snapshot(this.sql, input.plan, now) };
    });
  }

  /**
   * Before a request writes state: holds `units` against this month's quotas for `RESERVATION_LEASE_MS`, if they fit
   * beside what is committed and what other live reservations hold (checked exactly, in one transaction). Refused,
   * it holds nothing. Reserving again under the same id replaces what that id held.
   *
   * @example await meter.reserve({ keyId, plan, reservationId: "rsv_…", units: { item_writes: 3, images: 2 } })
   */
  reserve(input: ReserveInput): ReserveResult {
    const now = Date.now();
    const units = reservedUnits(input.units);
    return this.ctx.storage.transactionSync((): ReserveResult => {
      if (readState(this.sql).revokedAt !== null) return { ok: false, code: "revoked_api_key" };
      pruneReservations(this.sql, now);
      if (exceeded(input.plan, taken(this.sql, now, input.reservationId), units, undefined).length > 0)
        return {
          ok: false,
          code: "quota_exceeded",
          retryAfterSeconds: secondsUntilMonthEnds(now),
          snapshot: snapshot(this.sql, input.plan, now),
        };
      const expiresAt = putReservation(this.sql, input.reservationId, units, now, input.leaseMs);
      return { ok: true, expiresAt, snapshot: snapshot(this.sql, input.plan, now) };
    });
  }

  /** A request that reserved and will not settle (it failed) lets its units go. Idempotent. */
  release(reservationId: string): boolean {
    return this.ctx.storage.transactionSync(() => dropReservation(this.sql, reservationId));
  }

  /**
   * After a request succeeded: in one transaction, checks the quota exactly (a request that would take the month
   * over the plan is refused and not billed; units within its live reservation always fit), writes the usage
   * record, adds it to the counters, consumes the reservation and stores the idempotent response. Safe to retry: a
   * record id already committed returns the same record.
   */
  async settle(input: SettleInput): Promise<SettleResult> {
    const now = Date.now();
    const result = this.ctx.storage.transactionSync((): SettleResult => {
      const existing = recordExists(this.sql, input.record.id);
      if (existing) return { ok: true, record: existing, snapshot: snapshot(this.sql, input.plan, now) };
      const idem = input.idempotency;
      const reservationId = input.reservationId;
      const reserved =
        reservationId === undefined ? undefined : liveReservation(this.sql, reservationId, now);
      // Whatever the outcome, the request is over: its reservation holds nothing after this transaction.
      if (reservationId !== undefined) dropReservation(this.sql, reservationId);
      const release = () => idem && idempotency.release(this.sql, idem.key, idem.owner);
      if (readState(this.sql).revokedAt !== null) {
        release();
        return { ok: false, code: "revoked_api_key" };
      }
      if (idem && !idempotency.holds(this.sql, idem.key, idem.owner))
        return { ok: false, code: "idempotency_in_progress", retryAfterSeconds: 1 };
      const units = quotaUnits(input.record.units);
      if (exceeded(input.plan, taken(this.sql, now), units, reserved).length > 0) {
        release();
        return {
          ok: false,
          code: "quota_exceeded",
          retryAfterSeconds: secondsUntilMonthEnds(now),
          snapshot: snapshot(this.sql, input.plan, now),
        };
      }
      const record = buildUsageRecord(input.record, now);
      commitRecord(this.sql, record);
      if (idem) idempotency.complete(this.sql, idem.key, record.id, idem.response, now);
      return { ok: true, record, snapshot: snapshot(this.sql, input.plan, now) };
    });
    // Also on a repeated settle: if scheduling failed after the commit, the retry schedules it.
    if (result.ok) await this.scheduleExport(now + EXPORT_DELAY_MS);
    return result;
  }

  /** A failed attempt lets its Idempotency-Key go, so a retry runs afresh. */
  releaseClaim(input: { key: string; owner: string }): void {
    this.ctx.storage.transactionSync(() => idempotency.release(this.sql, input.key, input.owner));
  }

  /** Refuses every later admission and settlement of this key. Idempotent. */
  revoke(): void {
    markRevoked(this.sql, Date.now());
  }

  /** This key's usage by UTC day and route in [fromDay, toDay], and this month's counters. */
  usage(input: { fromDay: string; toDay: string }): KeyUsageReport {
    const days = this.sql
      .exec<DailyUsage & Record<string, SqlStorageValue>>(
        `SELECT day, route, requests, images, texts_computed, texts_cached, item_writes, queries, cost_micros
         FROM daily_usage WHERE day >= ? AND day <= ? ORDER BY day, route`,
        input.fromDay,
        input.toDay,
      )
      .toArray();
    const now = Date.now();
    return { days, month: { period: monthOf(now), ...monthUsage(this.sql, now) } };
  }

  /** Called by the export consumer once records are in D1; unconfirmed records are sent again later. */
  confirmExported(ids: string[]): number {
    return confirm(this.sql, ids);
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    idempotency.prune(this.sql, now);
    try {
      const { nextAlarmAt } = await relay(this.sql, this.env.USAGE_EXPORT, now);
      if (nextAlarmAt !== undefined) await this.scheduleExport(nextAlarmAt);
    } catch (error) {
      console.error(`usage export from the key meter failed, retrying: ${(error as Error).message}`);
      await this.scheduleExport(now + EXPORT_RETRY_MS);
    }
  }

  private async scheduleExport(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
