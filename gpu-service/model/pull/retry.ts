import { join } from "node:path";
import { type DownloadStatus, downloadOne } from "./download.ts";
import { type HubRepo, resolveDownload } from "./hub.ts";
import type { RepoFile } from "./layout.ts";
import { failure, type Outcome, type PullError } from "./outcome.ts";
import type { Progress } from "./progress.ts";

export interface RetryTimings {
  /** Extra attempts after a transient failure, each resuming from what is on disk. */
  retries: number;
  /** The first wait; it doubles at each attempt. */
  retryDelayMs: number;
  /** The longest a server's Retry-After is honoured for; a longer one is cut to this. */
  retryAfterCapMs: number;
}

export interface FileDownload extends HubRepo, RetryTimings {
  dest: string;
  stallTimeoutMs: number;
  progress: Progress;
}

/**
 * Resolves and downloads one file, trying again after a transient failure (an interruption, the network, 408, 429 or
 * 5xx) up to `retries` times: each attempt resumes the partial file, after the wait retryDelay gives.
 *
 * @example await downloadWithRetries({ ...hub, dest, progress, ...PULL_TIMINGS }, commit, file)
 */
export async function downloadWithRetries(
  options: FileDownload,
  commit: string,
  file: RepoFile,
): Promise<Outcome<{ status: DownloadStatus; fetched: number }>> {
  const destination = join(options.dest, file.path);
  for (let attempt = 0; ; attempt++) {
    const source = await resolveDownload(options, commit, file.path);
    if (source.ok && source.value.size !== file.size)
      return failure(
        "hub-error",
        `${file.path}: the Hub lists ${file.size} bytes but serves ${source.value.size}`,
      );
    const result = source.ok
      ? await downloadOne({
          file,
          url: source.value.url,
          destination,
          accessToken: options.accessToken,
          stallTimeoutMs: options.stallTimeoutMs,
          progress: options.progress,
          signal: options.signal,
        })
      : source;
    if (result.ok || !transient(result.error) || attempt >= options.retries) return result;
    const wait = retryDelay(attempt, options, result.error);
    const reason = result.error.message.replace(`${file.path}: `, "");
    options.progress.note(
      file.path,
      `retry ${attempt + 1} of ${options.retries} in ${(wait / 1000).toFixed(1)} s: ${reason}`,
    );
    await sleep(wait, options.signal);
    if (options.signal?.aborted) return failure("cancelled", `${file.path}: the pull was cancelled`);
  }
}

/**
 * How long to wait before attempt `attempt + 1`: what the server asked for in Retry-After (at most retryAfterCapMs),
 * else retryDelayMs doubled at each attempt.
 *
 * @example retryDelay(2, { retryDelayMs: 1000, retryAfterCapMs: 30_000 }, { code: "network", message }) // 4000
 */
export function retryDelay(
  attempt: number,
  timings: Pick<RetryTimings, "retryDelayMs" | "retryAfterCapMs">,
  error: PullError,
): number {
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, timings.retryAfterCapMs);
  return timings.retryDelayMs * 2 ** attempt;
}

function transient(error: PullError): boolean {
  return error.code === "interrupted" || error.code === "network" || error.code === "hub-unavailable";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
