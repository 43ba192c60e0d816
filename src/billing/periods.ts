/** Quota periods are calendar months in UTC; usage reports group by UTC day. */

/** @example monthOf(Date.UTC(2026, 10, 30, 23, 59)) === "2026-11" */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** @example dayOf(Date.UTC(2026, 10, 30, 23, 59)) === "2026-11-30" */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Start and end (exclusive) of the month containing `ms`, in ms. */
export function monthBounds(ms: number): { start: number; end: number } {
  const date = new Date(ms);
  return {
    start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
    end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
  };
}

/** Whole seconds (at least 1) until the month containing `ms` ends: when a monthly quota resets. */
export function secondsUntilMonthEnds(ms: number): number {
  return Math.max(1, Math.ceil((monthBounds(ms).end - ms) / 1000));
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses a report bound: a UTC day `YYYY-MM-DD` or an ISO timestamp. A day as the upper bound includes the whole
 * day. Returns ms, or undefined when the text is neither.
 *
 * @example parseBound("2026-11-30", "to") === Date.UTC(2026, 11, 1)
 */
export function parseBound(text: string, side: "from" | "to"): number | undefined {
  if (DAY.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (Number.isNaN(ms) || dayOf(ms) !== text) return undefined;
    return side === "to" ? ms + 86_400_000 : ms;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A report's time range [from, to) in ms, or which bound is wrong and why. */
export type ReportRange =
  | { ok: true; from: number; to: number }
  | { ok: false; pointer: "/from" | "/to"; detail: string };

/**
 * The range of a usage report from its optional bounds (see {@link parseBound}); by default this month so far. A range
 * that ends before it starts is an error, not an empty report — both usage routes agree on that.
 *
 * @example reportRange("9999-12-31", "0001-01-01", Date.now()) → { ok: false, pointer: "/to", … }
 */
export function reportRange(from: string | undefined, to: string | undefined, now: number): ReportRange {
  const start = from === undefined ? monthBounds(now).start : parseBound(from, "from");
  if (start === undefined)
    return {
      ok: false,
      pointer: "/from",
      detail: `"${from}" is not a UTC day (YYYY-MM-DD) or an ISO timestamp`,
    };
  const end = to === undefined ? now + 1 : parseBound(to, "to");
  if (end === undefined)
    return { ok: false, pointer: "/to", detail: `"${to}" is not a UTC day (YYYY-MM-DD) or an ISO timestamp` };
  if (end <= start) return { ok: false, pointer: "/to", detail: "ends before from begins" };
  return { ok: true, from: start, to: end };
}
