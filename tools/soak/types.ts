/** The API routes the soak drives, and the records it keeps of every exchange. */

export const ROUTES = ["classify", "embeddings", "captions"] as const;
export type RouteName = (typeof ROUTES)[number];

/** What a mix may name: the billable routes, and `bad` (malformed or hostile requests from bad-cases.ts). */
export const KINDS = [...ROUTES, "bad"] as const;
export type RequestKind = (typeof KINDS)[number];

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
  /** The problem `detail` of an error answer (cut to 300 characters): how a shed 503 is told from the others. */
  detail?: string;
  /** A stack trace or a file path found in an error answer's body: never for a client's eyes. */
  leak?: string;
  /** Bytes sent (an estimate for multipart), for the upload allowance of the deadline check. */
  bodyBytes?: number;
  /** `run` during the timed run; `resolve` when an ambiguous outcome was settled afterwards. */
  phase: "run" | "resolve";
}

/** Which case of the bad-input corpus a request is, and the answer it must get. */
export interface BadRef {
  id: string;
  /** Method and path (with query), for reports and for a record that should never exist. */
  method: string;
  path: string;
  expected: { status: number; code: string };
  /**
   * The verdict needs the GPU tier (an image to decode, a host name to resolve): a 503/504 may come first and is
   * retried like any; for every other case the edge alone decides, and any 5xx is a failure.
   */
  needsGpu: boolean;
}

/** One request as the client means it: one Idempotency-Key, one or more attempts. */
export interface LogicalRequest {
  /** The closed-loop client, or -1 for an open-loop arrival. */
  client: number;
  seq: number;
  route: RequestKind;
  /** Set for `bad` requests. */
  bad?: BadRef;
  /** Closed-loop capacity calibration before an open-loop run (`--rate 2x`), or the measured run itself. */
  stage?: "calibration" | "run";
  encoding: "json" | "multipart" | "other";
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
