/** Why a pull failed. The CLI prints `message` as its one-line reason; tests and callers branch on `code`. */
export interface PullError {
  code: PullErrorCode;
  message: string;
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
  /** The Hub answered 5xx: like "network", worth retrying, and a complete local folder may be used instead. */
  | "hub-unavailable"
  | "network"
  | "interrupted"
  | "size-mismatch"
  | "checksum-mismatch"
  | "filesystem"
  | "invalid-folder"
  /** Another pull holds the folder's lock and the caller asked not to wait. */
  | "locked"
  /** The caller's AbortSignal fired (a stop signal during a container's start). */
  | "cancelled"
  /** Offline (or the Hub unreachable) and the folder holds no complete, verified pull of what was asked. */
  | "not-complete";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: PullError };

export function failure(code: PullErrorCode, message: string): { ok: false; error: PullError } {
  return { ok: false, error: { code, message } };
}
