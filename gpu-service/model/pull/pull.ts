import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ModelFolderError, readModelFolder } from "../model-folder.ts";
import { expectedHash, fileMatches, repoFileOf } from "./checksum.ts";
import type { DownloadStatus } from "./download.ts";
import { type LockOptions, lockModelFolder } from "./folder-lock.ts";
import { HUB_REQUEST_TIMEOUT_MS, type HubRepo, listRepoFiles, readSmallFile, resolveCommit } from "./hub.ts";
import { type Precision, planFiles, type RepoFile } from "./layout.ts";
import {
  clearCompleteMarkers,
  readCompleteMarker,
  STATE_DIR,
  VerifiedFiles,
  writeCompleteMarker,
} from "./manifest.ts";
import { failure, filesystemProblem, type Outcome } from "./outcome.ts";
import type { Progress } from "./progress.ts";
import { downloadWithRetries, type RetryTimings } from "./retry.ts";

export interface PullOptions extends HubRepo, RetryTimings {
  revision: string;
  dest: string;
  precision: Precision;
  progress: Progress;
  stallTimeoutMs: number;
  /** Never ask the Hub: succeed only if `dest` holds a complete, verified pull of this repo and revision. */
  offline?: boolean;
  /** How to wait for another pull of the same folder (default: wait, polling every 500 ms). */
  lock?: Omit<LockOptions, "signal" | "onWait" | "onTakeover">;
}

/** Timings for a real network; tests shorten them. */
export const PULL_TIMINGS = {
  retries: 3,
  retryDelayMs: 1000,
  retryAfterCapMs: 30_000,
  stallTimeoutMs: 60_000,
  requestTimeoutMs: HUB_REQUEST_TIMEOUT_MS,
} as const;

export interface PullSummary {
  repo: string;
  commit: string;
  precision: Precision;
  dest: string;
  files: { path: string; size: number; status: DownloadStatus | "up-to-date" }[];
  /** Bytes that came over the network in this run. */
  fetched: number;
  seconds: number;
  /** Set when the Hub was not asked (offline) or could not be reached, and the verified folder was used: why. */
  offline?: string;
}

/**
 * Makes `dest` a complete, verified CLIP model folder of `repo` at `revision` (config, tokenizer, both encoders of one
 * precision), then loads it the way the GPU service will, so a pull that succeeds is a folder that serves. Safe to
 * call on every start:
 *
 * - The folder is locked (folder-lock.ts) while it changes: a second pull, in this process or another, waits.
 * - Files verified earlier and untouched since are skipped without re-hashing (manifest.ts); others are hashed.
 * - Each file is downloaded to `<file>.partial`, resumed with a Range request after an interruption or a kill, and
 *   renamed into place only once its size and hash match the Hub's listing.
 * - The "complete" marker is removed before anything changes and written last, after the folder loaded.
 * - Offline, or when the Hub cannot be reached, is busy (408, 429, 5xx) or does not answer within requestTimeoutMs, a
 *   folder whose marker names this repo and revision is checked against the marker and used.
 * - Nothing throws for a folder that cannot be written (read-only, full, not a directory): code "filesystem".
 *
 * @example await pullModel({ hubUrl: "https://huggingface.co", repo: "Xenova/clip-vit-base-patch32", revision: "main",
 *   dest: "models/clip-vit-base-patch32", precision: "fp32", progress, ...PULL_TIMINGS })
 */
export async function pullModel(options: PullOptions): Promise<Outcome<PullSummary>> {
  try {
    return await pullInto(options);
  } catch (error) {
    const problem = filesystemProblem(error);
    if (problem === null) throw error; // a bug, not the disk
    return failure(
      "filesystem",
      `${options.dest}: ${problem} (the model folder must be writable, with room for the model)`,
    );
  }
}

async function pullInto(options: PullOptions): Promise<Outcome<PullSummary>> {
  const started = Date.now();
  if (options.offline) return useVerifiedFolder(options, started, "offline (HF_HUB_OFFLINE)");
  const remote = await readRemote(options);
  if (remote.ok) return withLock(options, () => fetchInto(options, remote.value, started));
  if (remote.error.code !== "network" && remote.error.code !== "hub-unavailable") return remote;
  if (!existsSync(join(options.dest, STATE_DIR))) return remote;
  const local = await useVerifiedFolder(options, started, remote.error.message);
  if (local.ok || local.error.code !== "not-complete") return local;
  return failure(remote.error.code, `${remote.error.message}; and ${local.error.message}`);
}

interface RemotePlan {
  commit: string;
  files: RepoFile[];
}

/** The commit, the files to have and the model type, asked of the Hub before the folder is touched. */
async function readRemote(options: PullOptions): Promise<Outcome<RemotePlan>> {
  const commit = await resolveCommit(options, options.revision);
  if (!commit.ok) return commit;
  const listing = await listRepoFiles(options, commit.value);
  if (!listing.ok) return listing;
  const plan = planFiles(options.repo, listing.value, options.precision);
  if (!plan.ok) return plan;
  // Xenova also exports SigLIP and others in this very layout; read model_type before fetching gigabytes.
  const clip = await checkModelType(options, commit.value, plan.files);
  if (!clip.ok) return clip;
  return { ok: true, value: { commit: commit.value, files: plan.files } };
}

async function fetchInto(options: PullOptions, remote: RemotePlan, started: number) {
  const { dest, progress } = options;
  const verified = await VerifiedFiles.read(dest);
  const files: PullSummary["files"] = [];
  const pending: RepoFile[] = [];
  for (const file of bySize(remote.files)) {
    const local = await localState(dest, file, verified);
    if (local === "missing") pending.push(file);
    else {
      progress.note(file.path, `already there (${local})`);
      files.push({ path: file.path, size: file.size, status: "up-to-date" });
    }
  }
  await clearCompleteMarkers(
    dest,
    options.precision,
    pending.map((file) => file.path),
  );
  let fetched = 0;
  for (const file of pending) {
    const result = await downloadWithRetries(options, remote.commit, file);
    if (!result.ok) return result;
    await verified.record(file.path, expectedHash(file));
    files.push({ path: file.path, size: file.size, status: result.value.status });
    fetched += result.value.fetched;
  }
  const loads = await checkFolderLoads(options);
  if (!loads.ok) return loads;
  await writeCompleteMarker(dest, {
    repo: options.repo,
    revision: options.revision,
    commit: remote.commit,
    precision: options.precision,
    files: remote.files.map((f) => ({ path: f.path, size: f.size, hash: expectedHash(f) })),
    completedAt: new Date().toISOString(),
  });
  return summary(options, remote.commit, files, fetched, started);
}

/** Whether `file` is in place: verified by an earlier pull and untouched, or hashed now and matching. */
async function localState(dest: string, file: RepoFile, verified: VerifiedFiles) {
  const hash = expectedHash(file);
  if (await verified.vouchesFor(file.path, file.size, hash)) return "verified earlier";
  const path = join(dest, file.path);
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : -1),
    () => -1,
  );
  if (!(await fileMatches(file, path, size))) return "missing";
  await verified.record(file.path, hash);
  return "verified";
}

/**
 * The Hub was not asked, or did not answer: the folder serves if its marker for this precision names this repo and
 * revision and every file it lists is still the one verified.
 */
async function useVerifiedFolder(options: PullOptions, started: number, why: string) {
  const notComplete = (reason: string) =>
    failure(
      "not-complete",
      `${options.dest} holds no complete pull of ${options.repo} to use offline: ${reason}`,
    );
  if (!existsSync(join(options.dest, STATE_DIR))) return notComplete("it was never pulled into");
  return withLock(options, async (): Promise<Outcome<PullSummary>> => {
    const marker = await readCompleteMarker(options.dest, options.precision);
    if (marker === null) return notComplete(`no pull of ${options.precision} finished there`);
    if (marker.repo !== options.repo) return notComplete(`it holds ${marker.repo}`);
    if (marker.revision !== options.revision && marker.commit !== options.revision)
      return notComplete(`it holds revision ${marker.revision} (${marker.commit.slice(0, 7)})`);
    const verified = await VerifiedFiles.read(options.dest);
    for (const entry of marker.files) {
      const file = repoFileOf(entry.path, entry.size, entry.hash);
      if ((await localState(options.dest, file, verified)) === "missing")
        return notComplete(`${entry.path} changed since it was verified`);
    }
    const loads = await checkFolderLoads(options);
    if (!loads.ok) return loads;
    options.progress.note(
      options.dest,
      `using the folder verified at ${marker.commit.slice(0, 7)} without the Hub (${why})`,
    );
    const files = marker.files.map((f) => ({ path: f.path, size: f.size, status: "up-to-date" as const }));
    const done = summary(options, marker.commit, files, 0, started);
    return { ok: true, value: { ...done.value, offline: why } };
  });
}

async function withLock<T>(options: PullOptions, work: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
  const lock = await lockModelFolder(options.dest, {
    wait: true,
    ...options.lock,
    signal: options.signal,
    onWait: (holder, path) =>
      options.progress.note(
        options.dest,
        `waiting: pid ${holder.pid} on ${holder.hostname} has been pulling into it since ${holder.acquiredAt} (${path})`,
      ),
    onTakeover: (why) => options.progress.note(options.dest, `took over a stale lock: ${why}`),
  });
  if (!lock.ok) return lock;
  try {
    return await work();
  } finally {
    // A lock that cannot be removed (the disk went read-only) is taken over as stale by the next pull.
    await lock.value.release().catch(() => {});
  }
}

async function checkFolderLoads(options: PullOptions): Promise<Outcome<void>> {
  try {
    await readModelFolder(options.dest, { precision: options.precision, duringPull: true });
    return { ok: true, value: undefined };
  } catch (error) {
    if (!(error instanceof ModelFolderError)) throw error;
    return failure("invalid-folder", `downloaded, but the folder does not load: ${error.message}`);
  }
}

function summary(
  options: PullOptions,
  commit: string,
  files: PullSummary["files"],
  fetched: number,
  started: number,
): { ok: true; value: PullSummary } {
  return {
    ok: true,
    value: {
      repo: options.repo,
      commit,
      precision: options.precision,
      dest: options.dest,
      files,
      fetched,
      seconds: (Date.now() - started) / 1000,
    },
  };
}

/** model_type from config.json: the local copy when it is the listed one (a restart asks nothing), else the Hub's. */
async function checkModelType(
  options: PullOptions,
  commit: string,
  files: RepoFile[],
): Promise<Outcome<void>> {
  const listed = files.find((f) => f.path === "config.json");
  const local = join(options.dest, "config.json");
  const size = await stat(local).then(
    (s) => s.size,
    () => -1,
  );
  const text =
    listed && (await fileMatches(listed, local, size))
      ? { ok: true as const, value: await readFile(local, "utf8") }
      : await readSmallFile(options, commit, "config.json");
  if (!text.ok) return text;
  let modelType: unknown;
  try {
    modelType = (JSON.parse(text.value) as { model_type?: unknown }).model_type;
  } catch {
    return failure("not-clip", `${options.repo} is not a CLIP ONNX export: its config.json is not JSON`);
  }
  if (modelType !== "clip")
    return failure(
      "not-clip",
      `${options.repo} is not a CLIP ONNX export: config.json model_type is ${JSON.stringify(modelType)}`,
    );
  return { ok: true, value: undefined };
}

/** Small files first: a broken repo or a bad token shows up in seconds, not after the 600 MB encoder. */
function bySize(files: RepoFile[]): RepoFile[] {
  return [...files].sort((a, b) => a.size - b.size);
}
