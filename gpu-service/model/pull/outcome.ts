/** Why a pull failed. The CLI prints `message` as its one-line reason; tests and callers branch on `code`. */
export interface PullError {
  code: PullErrorCode;
  message: string;
  /** How long the server asked us to wait before asking again (its Retry-After), when it said. */
  retryAfterMs?: number;
}

export type PullErrorCode =
  | "usage"
  | "bad-token"
  | "repo-not-found"
  | "revision-not-found"
  | "access-denied"
  | "not-clip"
  | "precision-missing"
  | "hub-error"
  /**
   * The Hub (or its CDN) answered 408, 429 or 5xx, or did not answer in time: like "network", worth retrying, and a
   * complete local folder may be used instead.
   */
  | "hub-unavailable"
  | "network"
  | "interrupted"
  | "size-mismatch"
  | "checksum-mismatch"
  /** The model folder cannot be written or read: read-only, full, a file where a folder should be. */
  | "filesystem"
  | "invalid-folder"
  /** Another pull holds the folder's lock and the caller asked not to wait. */
  | "locked"
  /** The caller's AbortSignal fired (a stop signal during a container's start). */
  | "cancelled"
  /** Offline (or the Hub unreachable) and the folder holds no complete, verified pull of what was asked. */
  | "not-complete";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: PullError };

export function failure(
  code: PullErrorCode,
  message: string,
  more: { retryAfterMs?: number } = {},
): { ok: false; error: PullError } {
  return { ok: false, error: { code, message, ...more } };
}

/**
 * Failures the same pull may not meet again a little later: the network, a busy Hub, a torn or corrupted download,
 * another pull holding the folder. The others (a wrong repo, revision, token or precision, a repo that is no CLIP
 * export, offline with nothing verified, a folder that cannot be written) come back at every attempt until someone
 * changes the configuration, so a container exits 2 for them rather than 1 (container-entry.ts).
 *
 * @example isRetryable("hub-unavailable") // true; isRetryable("repo-not-found") // false
 */
export function isRetryable(code: PullErrorCode): boolean {
  return RETRYABLE.has(code);
}

const RETRYABLE = new Set<PullErrorCode>([
  "hub-error",
  "hub-unavailable",
  "network",
  "interrupted",
  "size-mismatch",
  "checksum-mismatch",
  "locked",
  "cancelled",
]);

/**
 * The one-line message of a Node file-system error (EROFS, EACCES, ENOSPC, ENOTDIR…: errors that name a syscall),
 * else null: anything else is a bug and is thrown on.
 *
 * @example filesystemProblem(erofs) // "EROFS: read-only file system, mkdir '/models/clip/.pull'"
 */
export function filesystemProblem(error: unknown): string | null {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  if (!(error instanceof Error) || typeof code !== "string" || typeof syscall !== "string") return null;
  return error.message.replace(/\s+/g, " ").trim().slice(0, 300);
}
