import type { QuotaPrecheck } from "../../billing/key-meter/types.ts";

/**
 * What each billable route needs left of the month's quota to be worth running. Only spares GPU work: the exact
 * check happens when the request's usage is committed, whatever this table says. Routes not listed (GET /v1/models,
 * GET /v1/usage, or a new route nobody added here) are still rate-limited and, if they bill, still checked exactly.
 */
const PRECHECKS: Record<string, QuotaPrecheck> = {
  "POST /v1/classify": { all: ["images", "texts"] },
  "POST /v1/captions": { all: ["images"] },
  "POST /v1/embeddings": { any: ["images", "texts"] },
};

export function precheckFor(method: string, path: string): QuotaPrecheck | undefined {
  return PRECHECKS[`${method} ${path}`];
}
