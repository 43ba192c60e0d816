import { ClipEdgeError, errorFromResponse } from "./errors.ts";

/** Settings every call shares; each can be overridden per call through `CallOptions`. */
export interface TransportOptions {
  apiKey: string;
  /** The API's origin, e.g. "https://api.example.com" or "http://127.0.0.1:8787". */
  baseUrl: string;
  /** A fetch of your own (tests, proxies, React Native polyfills); the global one by default. */
  fetch?: typeof fetch;
  /** The longest a call may take, retries and their waits included (ms). Default 60 000. */
  timeoutMs?: number;
  /** Retries after the first attempt on 429 and 503 (but not quota_exceeded), 409 idempotency_in_progress and network errors. Default 3. */
  maxRetries?: number;
  /** The first backoff's ceiling (ms); each retry doubles it, up to `maxRetryDelayMs`. Default 500. */
  retryBaseDelayMs?: number;
  /** The longest wait before a retry (ms); a Retry-After beyond it ends the call with the error. Default 30 000. */
  maxRetryDelayMs?: number;
  /** Headers sent with every request (after the SDK's own, so they can replace them). */
  headers?: Record<string, string>;
}

/** What one call may change. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  maxRetries?: number;
  /** A key of your own; the SDK makes one per POST otherwise. Reused by every retry of the call. */
  idempotencyKey?: string;
  /** Sent as X-Request-Id (8–128 of [A-Za-z0-9._:-]); the server makes one otherwise. */
  requestId?: string;
  /** Hears every answer, retried or not: its status and headers (e.g. Idempotent-Replayed, RateLimit). */
  onResponse?: (info: { attempt: number; status: number; headers: Headers }) => void;
  /** Hears each retry before its wait: why, and how long it waits (ms). */
  onRetry?: (info: { attempt: number; delayMs: number; error: ClipEdgeError }) => void;
}

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON value, or FormData for multipart; built again for every attempt (a FormData body is single-use in some runtimes). */
  body?: () => unknown;
}

const RETRYABLE_CODES = new Set([
  "rate_limited",
  "overloaded",
  "gpu_unavailable",
  "database_unavailable",
  "idempotency_in_progress",
]);

/** Whether an error is worth another attempt: a quota used up or a bad request will not get better by waiting. */
export function isRetryable(error: ClipEdgeError): boolean {
  if (error.code === "network_error") return true;
  if (error.code === "timeout" || error.code === "aborted") return false;
  if (RETRYABLE_CODES.has(error.code)) return true;
  // A 429 or 503 from something in front of the API (a CDN, a proxy: no problem document) is as transient as ours;
  // a problem document with another code (quota_exceeded, say) is not.
  return (error.status === 429 || error.status === 503) && error.problem === undefined;
}

/**
 * The wait before retry `attempt` (1-based): "full jitter" (a uniform draw below an exponentially growing ceiling,
 * so clients that failed together do not retry together), but never shorter than the server's Retry-After.
 *
 * @example retryDelayMs(1, undefined, { base: 500, max: 30_000 }) // somewhere in [0, 500)
 */
export function retryDelayMs(
  attempt: number,
  retryAfterSeconds: number | undefined,
  limits: { base: number; max: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(limits.max, limits.base * 2 ** (attempt - 1));
  const jitter = Math.floor(random() * ceiling);
  return retryAfterSeconds === undefined ? jitter : Math.max(retryAfterSeconds * 1000, jitter);
}

/** A random Idempotency-Key; crypto.randomUUID where it exists (not in every React Native runtime). */
export function newIdempotencyKey(): string {
  const uuid = globalThis.crypto?.randomUUID?.();
  if (uuid) return `sdk_${uuid}`;
  return `sdk_${Date.now().toString(36)}_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

/** Sends one call: its attempts, waits, deadline and cancellation. Resolves with the parsed JSON answer. */
export async function send<T>(
  options: TransportOptions,
  spec: RequestSpec,
  call: CallOptions = {},
): Promise<T> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = call.timeoutMs ?? options.timeoutMs ?? 60_000;
  const maxRetries = call.maxRetries ?? options.maxRetries ?? 3;
  const limits = { base: options.retryBaseDelayMs ?? 500, max: options.maxRetryDelayMs ?? 30_000 };
  const idempotencyKey = spec.method === "POST" ? (call.idempotencyKey ?? newIdempotencyKey()) : undefined;
  const url = buildUrl(options.baseUrl, spec.path, spec.query);

  // One controller ends the whole call: the caller's abort or the deadline, whichever comes first.
  const deadline = Date.now() + timeoutMs;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  call.signal?.addEventListener("abort", onAbort, { once: true });
  const ended = () =>
    new ClipEdgeError(
      timedOut
        ? { code: "timeout", status: 0, message: `no answer within ${timeoutMs} ms` }
        : { code: "aborted", status: 0, message: "the call was aborted", cause: call.signal?.reason },
    );
  try {
    if (call.signal?.aborted) throw ended();
    for (let attempt = 0; ; attempt++) {
      let error: ClipEdgeError;
      try {
        const body = spec.body?.();
        const response = await doFetch(url, {
          method: spec.method,
          headers: headersFor(options, body, call, idempotencyKey),
          body: encodeBody(body),
          signal: controller.signal,
        });
        call.onResponse?.({ attempt, status: response.status, headers: response.headers });
        if (response.ok) return (await parseAnswer(response)) as T;
        error = await errorFromResponse(response);
      } catch (cause) {
        if (controller.signal.aborted) throw ended();
        if (cause instanceof ClipEdgeError) throw cause;
        error = new ClipEdgeError({ code: "network_error", status: 0, message: String(cause), cause });
      }
      if (attempt >= maxRetries || !isRetryable(error)) throw error;
      const delayMs = retryDelayMs(attempt + 1, error.retryAfter, limits);
      // A wait the call has no time left for ends it now with the server's own error (its code and Retry-After),
      // not with a timeout after sleeping to the deadline.
      if (delayMs > limits.max || Date.now() + delayMs >= deadline) throw error;
      call.onRetry?.({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs, controller.signal).catch(() => {
        throw ended();
      });
    }
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * A 2xx answer's JSON. One that does not parse is the server's (or a proxy's) fault, and it did the work: never
 * retried (a POST would be sent again), it ends the call as `invalid_response` with the status and request id.
 */
async function parseAnswer(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ClipEdgeError({
      code: "invalid_response",
      status: response.status,
      message: `the ${response.status} answer is not JSON: ${text.slice(0, 80)}`,
      requestId: response.headers.get("x-request-id") ?? undefined,
      cause,
    });
  }
}

function buildUrl(baseUrl: string, path: string, query: RequestSpec["query"]): string {
  const url = new URL(path, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url.toString();
}

function headersFor(
  options: TransportOptions,
  body: unknown,
  call: CallOptions,
  idempotencyKey: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.apiKey}`,
    accept: "application/json",
  };
  // FormData sets its own content type, boundary included.
  if (body !== undefined && !(body instanceof FormData)) headers["content-type"] = "application/json";
  if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
  if (call.requestId) headers["x-request-id"] = call.requestId;
  return { ...headers, ...options.headers };
}

function encodeBody(body: unknown): FormData | string | undefined {
  if (body === undefined) return undefined;
  return body instanceof FormData ? body : JSON.stringify(body);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
