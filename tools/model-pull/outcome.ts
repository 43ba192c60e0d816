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
  | "network"
  | "interrupted"
  | "size-mismatch"
  | "checksum-mismatch"
  | "filesystem"
  | "invalid-folder";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: PullError };

export function failure(code: PullErrorCode, message: string): { ok: false; error: PullError } {
  return { ok: false, error: { code, message } };
}
