// Pulling a CLIP model folder from the Hugging Face Hub: what the container runs at every start (container-entry.ts)
// and `npm run model:pull` wraps (tools/model-pull/). Free of onnxruntime: a pull only reads JSON to check the folder.
export { lockModelFolder, lockPathOf } from "./folder-lock.ts";
export { HUB_REQUEST_TIMEOUT_MS } from "./hub.ts";
export { PRECISIONS, type Precision, type RepoFile } from "./layout.ts";
export { completeMarkerPath, STATE_DIR } from "./manifest.ts";
export {
  failure,
  isRetryable,
  type Outcome,
  type PullError,
  type PullErrorCode,
} from "./outcome.ts";
export { createProgress, formatBytes, type Progress, type ProgressStream } from "./progress.ts";
export { PULL_TIMINGS, type PullOptions, type PullSummary, pullModel } from "./pull.ts";
export {
  checkPullRequest,
  DEFAULT_HUB_URL,
  offlineFromEnv,
  type PullRequest,
  pullRequestFromEnv,
  unpinnedRevisionWarning,
} from "./request.ts";
