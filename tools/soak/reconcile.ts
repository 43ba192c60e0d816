import {
  type LogicalRequest,
  ROUTE_PATHS,
  type RouteName,
  TOTAL_FIELDS,
  type Totals,
  type UsageUnits,
} from "./types.ts";

/** The fields of a D1 usage record (`/admin/usage` data) the reconciliation reads. */
export interface ExportRecord extends Totals {
  id: string;
  request_id: string;
  key_id: string;
  route: string;
  cost_micros: number;
}

export type Priced = Totals & { cost_micros: number };

export interface ReconcileInput {
  requests: readonly LogicalRequest[];
  keyId: string;
  /** `/v1/usage` totals for the key (its Durable Object: exact at once). */
  meter: Priced;
  /** Every record of `/admin/usage` for the account, all pages, as listed. */
  exportRecords: readonly ExportRecord[];
  /** The export's own `totals`. */
  exportTotals: Priced & { records: number };
}

export interface Reconciliation {
  ok: boolean;
  /** Σ usage of 2xx answers, each Idempotency-Key once; `requests` = keys answered 2xx. */
  client: Totals;
  meter: Priced;
  exportRecords: Priced & { records: number };
  exportTotals: Priced & { records: number };
  /** One line per disagreement between the sides' totals. */
  differences: string[];
  records: {
    matched: number;
    /** A request answered 2xx with no record. */
    missing: { idempotencyKey: string; requestIds: string[] }[];
    /** A record no request of the run explains (unknown request id, or another key). */
    extra: { id: string; request_id: string; why: string }[];
    /** A request with more than one record, or one record listed twice. */
    duplicate: { idempotencyKey?: string; recordIds: string[] }[];
    /** A record whose units or route differ from the answer's usage. */
    unitMismatch: { id: string; request_id: string; expected: string; got: string }[];
    /** A record of a request that never got a 2xx: billed, never delivered. */
    billedUnanswered: { id: string; request_id: string; idempotencyKey: string }[];
    /** A record of a bad-input request: malformed requests must never be billed, whatever they were answered. */
    billedBad: { id: string; request_id: string; caseId: string }[];
  };
  /** 2xx answers that were replays; keys executed more than once; replays whose usage differs. */
  replays: number;
  executedTwice: string[];
  replayDiffers: string[];
}

const isOk = (status?: number) => status !== undefined && status >= 200 && status < 300;
const zero = (): Priced => ({ requests: 0, images: 0, texts_computed: 0, texts_cached: 0, cost_micros: 0 });
const sameUsage = (a?: UsageUnits, b?: UsageUnits) =>
  a?.images === b?.images && a?.texts_computed === b?.texts_computed && a?.texts_cached === b?.texts_cached;

/**
 * Checks billing three ways: what clients were answered (2xx `usage`, each Idempotency-Key once: a replay is the
 * same answer, not billed again), what the key's meter says (`/v1/usage`) and what the D1 export holds, record
 * by record. Records are matched to requests by `request_id`: the harness sends its own X-Request-Id on every
 * attempt and the edge bills under it, so a record of an attempt whose answer was lost still finds its request.
 * A record of a bad-input request is a failure of its own (billed bad input), whatever it was answered; their 4xx
 * answers are not billing's concern.
 */
export function reconcile(input: ReconcileInput): Reconciliation {
  const client: Totals = { requests: 0, images: 0, texts_computed: 0, texts_cached: 0 };
  const byRequestId = new Map<string, number>();
  const answered: { usage?: UsageUnits }[] = [];
  let replays = 0;
  const executedTwice: string[] = [];
  const replayDiffers: string[] = [];
  const differences: string[] = [];
  input.requests.forEach((request, index) => {
    for (const attempt of request.attempts) {
      byRequestId.set(attempt.requestId, index);
      if (attempt.answeredRequestId) byRequestId.set(attempt.answeredRequestId, index);
    }
    const oks = request.attempts.filter((a) => isOk(a.status));
    const first = oks[0];
    answered[index] = { usage: first?.usage };
    if (!first) return;
    replays += oks.filter((a) => a.replayed).length;
    if (oks.filter((a) => !a.replayed).length > 1) executedTwice.push(request.idempotencyKey);
    if (oks.some((a) => !sameUsage(a.usage, first.usage))) replayDiffers.push(request.idempotencyKey);
    if (!first.usage) differences.push(`${request.idempotencyKey}: a 2xx answer without usage`);
    client.requests++;
    client.images += first.usage?.images ?? 0;
    client.texts_computed += first.usage?.texts_computed ?? 0;
    client.texts_cached += first.usage?.texts_cached ?? 0;
  });

  const records: Reconciliation["records"] = {
    matched: 0,
    missing: [],
    extra: [],
    duplicate: [],
    unitMismatch: [],
    billedUnanswered: [],
    billedBad: [],
  };
  const listed = new Map<string, ExportRecord>();
  const exportSum = { ...zero(), records: 0 };
  const perRequest = new Map<number, ExportRecord[]>();
  for (const record of input.exportRecords) {
    if (listed.has(record.id)) {
      records.duplicate.push({ recordIds: [record.id, record.id] });
      continue;
    }
    listed.set(record.id, record);
    exportSum.records++;
    for (const field of [...TOTAL_FIELDS, "cost_micros"] as const) exportSum[field] += record[field];
    const index = byRequestId.get(record.request_id);
    if (record.key_id !== input.keyId) {
      records.extra.push({
        id: record.id,
        request_id: record.request_id,
        why: `another key (${record.key_id})`,
      });
    } else if (index === undefined) {
      records.extra.push({ id: record.id, request_id: record.request_id, why: "no request of this run" });
    } else if (input.requests[index]?.bad) {
      records.billedBad.push({
        id: record.id,
        request_id: record.request_id,
        caseId: input.requests[index]?.bad?.id ?? "",
      });
    } else if (!input.requests[index]?.attempts.some((a) => isOk(a.status))) {
      records.billedUnanswered.push({
        id: record.id,
        request_id: record.request_id,
        idempotencyKey: input.requests[index]?.idempotencyKey ?? "",
      });
    } else perRequest.set(index, [...(perRequest.get(index) ?? []), record]);
  }
  input.requests.forEach((request, index) => {
    // A bad request answered 2xx fails its judge; its record, if any, is listed as billed bad input.
    if (request.bad || !request.attempts.some((a) => isOk(a.status))) return;
    const found = perRequest.get(index) ?? [];
    if (found.length === 0) {
      records.missing.push({
        idempotencyKey: request.idempotencyKey,
        requestIds: request.attempts.map((a) => a.requestId),
      });
      return;
    }
    if (found.length > 1) {
      records.duplicate.push({ idempotencyKey: request.idempotencyKey, recordIds: found.map((r) => r.id) });
      return;
    }
    const record = found[0] as ExportRecord;
    const usage = answered[index]?.usage;
    const expected = `${ROUTE_PATHS[request.route as RouteName]} 1/${usage?.images}/${usage?.texts_computed}/${usage?.texts_cached}`;
    const got = `${record.route} ${record.requests}/${record.images}/${record.texts_computed}/${record.texts_cached}`;
    if (expected === got) records.matched++;
    else records.unitMismatch.push({ id: record.id, request_id: record.request_id, expected, got });
  });

  for (const field of TOTAL_FIELDS) {
    const want = client[field];
    if (input.meter[field] !== want)
      differences.push(`${field}: clients ${want}, /v1/usage ${input.meter[field]}`);
    if (exportSum[field] !== want)
      differences.push(`${field}: clients ${want}, D1 records ${exportSum[field]}`);
  }
  for (const field of [...TOTAL_FIELDS, "cost_micros", "records"] as const)
    if (input.exportTotals[field] !== exportSum[field])
      differences.push(
        `${field}: D1 export totals ${input.exportTotals[field]}, its records ${exportSum[field]}`,
      );
  if (input.meter.cost_micros !== exportSum.cost_micros)
    differences.push(
      `cost_micros: /v1/usage ${input.meter.cost_micros}, D1 records ${exportSum.cost_micros}`,
    );

  const ok =
    differences.length === 0 &&
    records.missing.length === 0 &&
    records.extra.length === 0 &&
    records.duplicate.length === 0 &&
    records.unitMismatch.length === 0 &&
    records.billedUnanswered.length === 0 &&
    records.billedBad.length === 0 &&
    executedTwice.length === 0 &&
    replayDiffers.length === 0;
  return {
    ok,
    client,
    meter: input.meter,
    exportRecords: exportSum,
    exportTotals: input.exportTotals,
    differences,
    records,
    replays,
    executedTwice,
    replayDiffers,
  };
}
