import type {
  LimitsSnapshot,
  Plan,
  QuotaDimension,
  RecordInput,
  UsageRecord,
} from "../../../src/billing/index.ts";

export type { QuotaDimension } from "../../../src/billing/index.ts";

/**
 * What a billable route needs left before it is worth running: `all` of these dimensions, or `any` one of them.
 * Checked at admission to spare work; the exact checks are the ones in `reserve` and `settle`. An empty precheck
 * names a route that needs nothing left.
 */
export interface QuotaPrecheck {
  all?: QuotaDimension[];
  any?: QuotaDimension[];
}

/** A response as kept for idempotent replays: status, headers and the exact body bytes. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface AdmitInput {
  keyId: string;
  plan: Plan;
  /** Absent for routes that bill nothing (/v1/models, /v1/usage): they only take a token. */
  precheck?: QuotaPrecheck;
  /** The request's Idempotency-Key, its fingerprint and this attempt's random owner token. */
  idempotency?: { key: string; fingerprint: string; owner: string };
}

export type AdmitRefusal =
  | "revoked_api_key"
  | "rate_limited"
  | "quota_exceeded"
  | "idempotency_in_progress"
  | "idempotency_key_reused";

export type AdmitResult =
  | { ok: true; snapshot: LimitsSnapshot; replay?: StoredResponse }
  | { ok: false; code: AdmitRefusal; retryAfterSeconds?: number; snapshot?: LimitsSnapshot };

/** Units a request holds against the month's quotas while it writes; `texts` counts computed and cached alike. */
export type ReservedUnits = Record<QuotaDimension, number>;

export interface ReserveInput {
  keyId: string;
  plan: Plan;
  /** One per request. Reserving again under the same id replaces its units (so a retried call holds them once). */
  reservationId: string;
  units: Partial<ReservedUnits>;
  /**
   * How long the units are held: a request's default minute, or longer (at most `MAX_RESERVATION_LEASE_MS`) for work
   * that outlives its request, such as a label set built by a queue consumer, which settles or releases it.
   */
  leaseMs?: number;
}

export type ReserveRefusal = "revoked_api_key" | "quota_exceeded";

export type ReserveResult =
  | { ok: true; snapshot: LimitsSnapshot; expiresAt: number }
  | { ok: false; code: ReserveRefusal; retryAfterSeconds?: number; snapshot?: LimitsSnapshot };

export interface SettleInput {
  record: RecordInput;
  plan: Plan;
  /** Present when the request carried an Idempotency-Key: the response to keep, under the attempt's owner token. */
  idempotency?: { key: string; owner: string; response: StoredResponse };
  /** The request's reservation, consumed by this settlement whatever its outcome. */
  reservationId?: string;
}

export type SettleRefusal = "revoked_api_key" | "quota_exceeded" | "idempotency_in_progress";

export type SettleResult =
  | { ok: true; record: UsageRecord; snapshot: LimitsSnapshot }
  | { ok: false; code: SettleRefusal; retryAfterSeconds?: number; snapshot?: LimitsSnapshot };

export interface DailyUsage {
  day: string;
  route: string;
  requests: number;
  images: number;
  texts_computed: number;
  texts_cached: number;
  item_writes: number;
  queries: number;
  cost_micros: number;
}

export interface KeyUsageReport {
  days: DailyUsage[];
  month: {
    period: string;
    requests: number;
    images: number;
    texts: number;
    item_writes: number;
    queries: number;
    cost_micros: number;
  };
}
