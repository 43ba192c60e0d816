import { join } from "node:path";
// model-folder.ts rather than the index: the index also loads onnxruntime-node, which checking JSON does not need.
import { ModelFolderError, readModelFolder } from "../../gpu-service/model/model-folder.ts";
import { type DownloadStatus, downloadOne, isUpToDate } from "./download.ts";
import { type HubRepo, listRepoFiles, readSmallFile, resolveCommit, resolveDownload } from "./hub.ts";
import { type Precision, planFiles, type RepoFile } from "./layout.ts";
import { failure, type Outcome } from "./outcome.ts";
import type { Progress } from "./progress.ts";

export interface PullOptions extends HubRepo {
  revision: string;
  dest: string;
  precision: Precision;
  progress: Progress;
  /** Extra attempts after an interrupted file, each resuming from what is on disk. */
  retries: number;
  retryDelayMs: number;
  stallTimeoutMs: number;
}

export interface PullSummary {
  repo: string;
  commit: string;
  precision: Precision;
  dest: string;
  files: { path: string; size: number; status: DownloadStatus | "up-to-date" }[];
  /** Bytes that came over the network in this run. */
  fetched: number;
  seconds: number;
}

/**
 * Downloads the files a CLIP model folder needs (config, tokenizer, both encoders of one precision) from a Hub repo
 * into `dest`, then loads the folder the way the GPU service will, so a pull that succeeds is a folder that serves.
 *
 * @example await pullModel({ hubUrl: "https://huggingface.co", repo: "Xenova/clip-vit-base-patch32", revision: "main",
 *   dest: "models/clip-vit-base-patch32", precision: "fp32", progress, retries: 3, retryDelayMs: 1000, stallTimeoutMs: 60_000 })
 */
export async function pullModel(options: PullOptions): Promise<Outcome<PullSummary>> {
  const started = Date.now();
  const commit = await resolveCommit(options, options.revision);
  if (!commit.ok) return commit;
  const listing = await listRepoFiles(options, commit.value);
  if (!listing.ok) return listing;
  const plan = planFiles(options.repo, listing.value, options.precision);
  if (!plan.ok) return plan;
  // Xenova also exports SigLIP and others in this very layout; read model_type before fetching gigabytes.
  const clip = await checkModelType(options, commit.value);
  if (!clip.ok) return clip;

  const files: PullSummary["files"] = [];
  let fetched = 0;
  for (const file of bySize(plan.files)) {
    const result = await downloadWithRetries(options, commit.value, file);
    if (!result.ok) return result;
    files.push({ path: file.path, size: file.size, status: result.value.status });
    fetched += result.value.fetched;
  }

  try {
    await readModelFolder(options.dest, { precision: options.precision });
  } catch (error) {
    if (!(error instanceof ModelFolderError)) throw error;
    return failure("invalid-folder", `downloaded, but the folder does not load: ${error.message}`);
  }
  const seconds = (Date.now() - started) / 1000;
  return {
    ok: true,
    value: {
      repo: options.repo,
      commit: commit.value,
      precision: options.precision,
      dest: options.dest,
      files,
      fetched,
      seconds,
    },
  };
}

async function checkModelType(hub: HubRepo, commit: string): Promise<Outcome<void>> {
  const text = await readSmallFile(hub, commit, "config.json");
  if (!text.ok) return text;
  let modelType: unknown;
  try {
    modelType = (JSON.parse(text.value) as { model_type?: unknown }).model_type;
  } catch {
    return failure("not-clip", `${hub.repo} is not a CLIP ONNX export: its config.json is not JSON`);
  }
  if (modelType !== "clip")
    return failure(
      "not-clip",
      `${hub.repo} is not a CLIP ONNX export: config.json model_type is ${JSON.stringify(modelType)}`,
    );
  return { ok: true, value: undefined };
}

async function downloadWithRetries(
  options: PullOptions,
  commit: string,
  file: RepoFile,
): Promise<Outcome<{ status: DownloadStatus | "up-to-date"; fetched: number }>> {
  const destination = join(options.dest, file.path);
  if (await isUpToDate(file, destination)) {
    options.progress.note(file.path, "already there (verified)");
    return { ok: true, value: { status: "up-to-date", fetched: 0 } };
  }
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
        })
      : source;
    const transient = !result.ok && (result.error.code === "interrupted" || result.error.code === "network");
    if (!transient || attempt >= options.retries) return result;
    await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs * 2 ** attempt));
  }
}

/** Small files first: a broken repo or a bad token shows up in seconds, not after the 600 MB encoder. */
function bySize(files: RepoFile[]): RepoFile[] {
  return [...files].sort((a, b) => a.size - b.size);
}
