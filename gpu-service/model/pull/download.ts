import { mkdir, open, rename, rm, stat, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import { ContentCheck } from "./checksum.ts";
import { isUnavailableStatus, parseRetryAfter } from "./http-status.ts";
import { networkReason, oneLine } from "./hub.ts";
import type { RepoFile } from "./layout.ts";
import { syncDirectory } from "./manifest.ts";
import { failure, type Outcome, type PullError } from "./outcome.ts";
import type { FileProgress, Progress } from "./progress.ts";

export interface DownloadJob {
  file: RepoFile;
  /** The Hub's resolve URL; it may redirect to a CDN, which must answer Range requests for resuming to work. */
  url: string;
  destination: string;
  accessToken?: string;
  /** Abort a response that sends nothing for this long; the bytes so far stay in the .partial file. */
  stallTimeoutMs: number;
  progress: Progress;
  /** Stops the download (code "cancelled"); the bytes so far stay in the .partial file. */
  signal?: AbortSignal;
}

export type DownloadStatus = "downloaded" | "resumed";

/**
 * Fetches one file into `<destination>.partial`, continuing from the partial's size with `Range: bytes=N-` when
 * one is left from an interrupted run or a killed process, checks size and hash, flushes it to disk, then renames it
 * into place, so the destination is either absent or complete and verified. An interruption keeps the partial (code
 * "interrupted", worth retrying). When a resumed file does not verify, the kept bytes were the culprit (a partial of
 * another revision, a torn write): the file starts over from byte 0 once. A fresh download that does not verify is
 * deleted and fails.
 *
 * We fetch ourselves instead of using the library's downloadFile: its blobs do not say whether the server honoured
 * the Range, and appending a full 200 body to a partial file would corrupt it.
 *
 * @example await downloadOne({ file, url, destination: "models/clip/onnx/text_model.onnx", stallTimeoutMs: 60_000, progress })
 */
export async function downloadOne(
  job: DownloadJob,
): Promise<Outcome<{ status: DownloadStatus; fetched: number }>> {
  const { file, destination } = job;
  const partial = `${destination}.partial`;
  try {
    // A stale or corrupt copy must not sit there looking complete while we fetch its replacement.
    await rm(destination, { force: true });
    await mkdir(dirname(destination), { recursive: true });
    const first = await attempt(job, partial);
    if (first.ok || first.resumedFrom === 0 || !MISMATCH.has(first.error.code)) return settle(job, first);
    await rm(partial, { force: true });
    const fresh = await attempt(job, partial);
    return settle(job, fresh.ok ? { ...fresh, value: { ...fresh.value, status: "downloaded" } } : fresh);
  } catch (error) {
    return failure("filesystem", `${file.path}: ${(error as Error).message}`);
  }
}

const MISMATCH = new Set(["size-mismatch", "checksum-mismatch"]);

type Attempt = Outcome<{ status: DownloadStatus; fetched: number }> & { resumedFrom: number };

/** Moves a verified partial into place; anything else is returned as it is. */
async function settle(
  job: DownloadJob,
  result: Attempt,
): Promise<Outcome<{ status: DownloadStatus; fetched: number }>> {
  if (!result.ok) return result;
  const partial = `${job.destination}.partial`;
  const handle = await open(partial, "r+");
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(partial, job.destination);
  await syncDirectory(dirname(job.destination));
  return { ok: true, value: result.value };
}

/** One pass: resume (or start) the partial, then check its size and hash; a mismatch deletes it. */
async function attempt(job: DownloadJob, partial: string): Promise<Attempt> {
  const { file } = job;
  // Touch the partial so an empty file (or one already complete) takes the same path as the rest.
  await (await open(partial, "a")).close();
  let offset = await sizeOf(partial);
  if (offset > file.size) {
    await truncate(partial, 0);
    offset = 0;
  }
  const check = new ContentCheck(file);
  if (offset > 0) await check.updateFromFile(partial);
  let resumedFrom = offset;
  const failed = (error: { ok: false; error: PullError }): Attempt => ({ ...error, resumedFrom });

  const bar = job.progress.begin(file.path, file.size, offset);
  const fetched =
    offset < file.size
      ? await fetchRest(job, partial, offset, check, bar)
      : { ok: true as const, value: { fetched: 0, from: offset } };
  if (!fetched.ok) {
    bar.end(
      fetched.error.code === "interrupted" || fetched.error.code === "cancelled"
        ? `${fetched.error.code} (the partial file is kept for resuming)`
        : "failed",
    );
    return failed(fetched);
  }
  resumedFrom = fetched.value.from; // 0 when the server ignored the Range and sent the whole file
  const onDisk = await sizeOf(partial);
  const restart = resumedFrom > 0 ? "; starting the file over" : "";
  if (onDisk !== file.size) {
    bar.end(`wrong size${restart}`);
    await rm(partial, { force: true });
    return failed(
      failure("size-mismatch", `${file.path}: got ${onDisk} bytes, the Hub lists ${file.size}; removed it`),
    );
  }
  const mismatch = check.mismatch();
  if (mismatch !== null) {
    bar.end(`hash mismatch${restart}`);
    await rm(partial, { force: true });
    return failed(
      failure("checksum-mismatch", `${file.path}: ${mismatch}; removed the download, run again to retry`),
    );
  }
  bar.end(`${resumedFrom > 0 ? "resumed and verified" : "verified"} (${check.describe()})`);
  return {
    ok: true,
    value: { status: resumedFrom > 0 ? "resumed" : "downloaded", fetched: fetched.value.fetched },
    resumedFrom,
  };
}

/**
 * Appends bytes `offset..` to the partial file, feeding `check`; returns how many bytes came over the wire and the
 * offset they started at (0 when the server ignored the Range: the partial is then rewritten from the start).
 */
async function fetchRest(
  job: DownloadJob,
  partial: string,
  offset: number,
  check: ContentCheck,
  bar: FileProgress,
): Promise<Outcome<{ fetched: number; from: number }>> {
  const { file } = job;
  const abort = new AbortController();
  let stallTimer = setTimeout(() => abort.abort(), job.stallTimeoutMs);
  const keepAlive = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => abort.abort(), job.stallTimeoutMs);
  };
  let done = offset;
  let fetched = 0;
  const handle = await open(partial, "a");
  try {
    let response: Response;
    try {
      // fetch drops the Authorization header when the Hub redirects to a CDN on another origin.
      response = await fetch(job.url, {
        headers: {
          ...(offset > 0 && { Range: `bytes=${offset}-` }),
          ...(job.accessToken && { Authorization: `Bearer ${job.accessToken}` }),
        },
        signal: job.signal ? AbortSignal.any([abort.signal, job.signal]) : abort.signal,
      });
    } catch (error) {
      if (job.signal?.aborted) return failure("cancelled", `${file.path}: the pull was cancelled`);
      const why = abort.signal.aborted
        ? `no answer for ${job.stallTimeoutMs / 1000} s`
        : networkReason(error);
      return failure("network", `${file.path}: ${why}`);
    }
    if (offset > 0 && response.status === 200) {
      // The server ignored the Range: start over rather than append a whole file to the partial one.
      await handle.truncate(0);
      check.reset();
      done = 0;
    } else if (offset > 0 && response.status === 206) {
      const start = /^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1];
      if (Number(start) !== offset) {
        await response.body?.cancel();
        return failure(
          "hub-error",
          `${file.path}: asked for bytes from ${offset}, got a range starting at ${start}`,
        );
      }
    } else if (!response.ok) {
      await response.body?.cancel();
      const said = `${file.path}: the download answered ${response.status} ${response.statusText}`.trim();
      if (isUnavailableStatus(response.status)) {
        const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        return failure("hub-unavailable", said, retryAfterMs === undefined ? {} : { retryAfterMs });
      }
      const access = response.status === 401 || response.status === 403;
      return failure(access ? "access-denied" : "hub-error", said);
    }
    if (response.body === null) {
      return failure("hub-error", `${file.path}: the download answered ${response.status} with no body`);
    }

    // Reading the body and writing the partial fail for different reasons: a cut connection is worth resuming, a
    // full or read-only disk is not (and "run again to resume" would send the operator the wrong way).
    const chunks = response.body[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await chunks.next();
      } catch (error) {
        if (job.signal?.aborted)
          return failure(
            "cancelled",
            `${file.path}: the pull was cancelled at ${done} of ${file.size} bytes`,
          );
        const why = abort.signal.aborted
          ? `nothing received for ${job.stallTimeoutMs / 1000} s`
          : networkReason(error);
        return failure(
          "interrupted",
          `${file.path}: download interrupted at ${done} of ${file.size} bytes (${why}); run again to resume`,
        );
      }
      if (next.done) break;
      const chunk = next.value;
      keepAlive();
      try {
        await handle.write(chunk);
      } catch (error) {
        abort.abort();
        return failure(
          "filesystem",
          `${file.path}: cannot write ${partial}: ${oneLine((error as Error).message)}`,
        );
      }
      check.update(chunk);
      done += chunk.byteLength;
      fetched += chunk.byteLength;
      bar.update(done);
    }
    if (done < file.size) {
      return failure(
        "interrupted",
        `${file.path}: the connection closed at ${done} of ${file.size} bytes; run again to resume`,
      );
    }
    return { ok: true, value: { fetched, from: done - fetched } };
  } finally {
    clearTimeout(stallTimer);
    await handle.close();
  }
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => -1,
  );
}
