/** The API routes the soak drives, and the records it keeps of every exchange. */

export const ROUTES = ["classify", "embeddings", "captions"] as const;
export type RouteName = (typeof ROUTES)[number];

export const ROUTE_PATHS: Record<RouteName, string> = {
  classify: "/v1/classify",
  embeddings: "/v1/embeddings",
  captions: "/v1/captions",
};

/** The `usage` member of a billable answer. */
export interface UsageUnits {
  images: number;
  texts_computed: number;
  texts_cached: number;
}

/** Why an attempt got no HTTP answer. `hard_stop` is the harness's own deadline, not the server's doing. */
export type NoAnswer = "timeout" | "connection" | "hard_stop";

/** One HTTP exchange of a logical request, or its failure. Times are ms since the run started. */
export interface Attempt {
  /** The X-Request-Id the harness sent (the edge keeps a caller's id, and bills under it). */
  requestId: string;
  /** The X-Request-Id the edge answered with, when it answered. */
  answeredRequestId?: string;
  startMs: number;
  endMs: number;
  /** The HTTP status; absent when there was no answer. */
  status?: number;
  /** The problem `code` of an error answer. */
  code?: string;
  noAnswer?: NoAnswer;
  /** `Idempotent-Replayed: true`: the stored answer of an earlier attempt, not billed again. */
  replayed: boolean;
  /** The `usage` of a 2xx answer. */
  usage?: UsageUnits;
  retryAfterSeconds?: number;
  /** What was wrong with the answer's form: an error that is not problem+json, a 2xx without `usage`. */
  malformed?: string;
  /** `run` during the timed run; `resolve` when an ambiguous outcome was settled afterwards. */
  phase: "run" | "resolve";
}

/** One request as the client means it: one Idempotency-Key, one or more attempts. */
export interface LogicalRequest {
  client: number;
  seq: number;
  route: RouteName;
  encoding: "json" | "multipart";
  idempotencyKey: string;
  /** Images sent (not necessarily served). */
  images: number;
  attempts: Attempt[];
}

/** The unit totals every side of the reconciliation is compared on. */
export interface Totals {
  requests: number;
  images: number;
  texts_computed: number;
  texts_cached: number;
}

export const TOTAL_FIELDS = ["requests", "images", "texts_computed", "texts_cached"] as const;
