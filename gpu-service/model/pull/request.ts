import { join } from "node:path";
import { PRECISIONS, type Precision } from "./layout.ts";
import { failure, type Outcome } from "./outcome.ts";

/** What to pull and from where: everything a pull needs but its timings and its progress output. */
export interface PullRequest {
  repo: string;
  revision: string;
  dest: string;
  precision: Precision;
  hubUrl: string;
  accessToken?: string;
  /** HF_HUB_OFFLINE: never ask the Hub, use the verified folder. */
  offline: boolean;
}

export const DEFAULT_HUB_URL = "https://huggingface.co";

/**
 * Checks what the CLI's arguments or the container's environment asked for, in one place: a repo id `owner/name`,
 * a precision, an http(s) Hub URL (a trailing slash dropped) and an `hf_` token (the hub library rejects other
 * tokens with a TypeError; this says so without echoing the token). `dest` defaults to `models/<repo name>`.
 *
 * @example checkPullRequest({ repo: "Xenova/clip-vit-base-patch32" }) // dest models/clip-vit-base-patch32, fp32, main
 */
export function checkPullRequest(fields: {
  repo: string;
  revision?: string;
  dest?: string;
  precision?: string;
  hubUrl?: string;
  accessToken?: string;
  offline?: boolean;
}): Outcome<PullRequest> {
  const { repo } = fields;
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo))
    return failure("usage", `"${repo}" is not a model repo id of the form owner/name`);
  const precision = fields.precision ?? "fp32";
  if (!PRECISIONS.includes(precision as Precision))
    return failure("usage", `--precision must be one of ${PRECISIONS.join(", ")}, got "${precision}"`);
  const hubUrl = (fields.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, "");
  if (!URL.canParse(hubUrl) || !/^https?:$/.test(new URL(hubUrl).protocol))
    return failure("usage", `the hub URL must be an http(s) URL, got "${hubUrl}"`);
  const accessToken = fields.accessToken?.trim() || undefined;
  if (accessToken !== undefined && !accessToken.startsWith("hf_"))
    return failure("bad-token", "HF_TOKEN is set but is not a Hugging Face token (they start with hf_)");
  return {
    ok: true,
    value: {
      repo,
      revision: fields.revision || "main",
      dest: fields.dest || join("models", repo.split("/")[1] as string),
      precision: precision as Precision,
      hubUrl,
      accessToken,
      offline: fields.offline ?? false,
    },
  };
}

/**
 * The pull a container start asks for, from its environment: MODEL_PULL (the repo id; null when unset),
 * MODEL_PULL_REVISION, MODEL_DIR (default `models/<repo name>`), MODEL_PRECISION, HF_ENDPOINT, HF_TOKEN, and
 * HF_HUB_OFFLINE=1 to start from the verified folder without asking the Hub.
 *
 * @example pullRequestFromEnv({ MODEL_PULL: "Xenova/clip-vit-base-patch32", MODEL_DIR: "/models/clip" })
 */
export function pullRequestFromEnv(env: Record<string, string | undefined>): Outcome<PullRequest> | null {
  const repo = env.MODEL_PULL?.trim();
  if (!repo) return null;
  const checked = checkPullRequest({
    repo,
    revision: env.MODEL_PULL_REVISION?.trim(),
    dest: env.MODEL_DIR?.trim(),
    precision: env.MODEL_PRECISION?.trim() || undefined,
    hubUrl: env.HF_ENDPOINT?.trim() || undefined,
    accessToken: env.HF_TOKEN,
    offline: offlineFromEnv(env),
  });
  if (checked.ok) return checked;
  // The CLI's wording names its flags; here the variables are what the operator set.
  const message = checked.error.message
    .replace("--precision", "MODEL_PRECISION")
    .replace("model repo id", "MODEL_PULL repo id");
  return failure(checked.error.code, message);
}

/**
 * The warning to log when a container pulls a branch or a tag rather than a commit, else null. Replicas started at
 * different times would then serve different commits under one model id, and the edge's text-embedding cache, keyed
 * by that id, would mix the two. `commit` is what the revision resolved to, for the line that pins it.
 *
 * @example unpinnedRevisionWarning("main", "3a1f…") // "MODEL_PULL_REVISION main is not a commit: …"
 */
export function unpinnedRevisionWarning(revision: string, commit: string): string | null {
  if (/^[0-9a-f]{40}$/i.test(revision)) return null;
  return (
    `MODEL_PULL_REVISION ${revision} is not a commit: replicas started at other times may serve other commits ` +
    `under one model id (and the edge's text cache would mix them); in production pin it: MODEL_PULL_REVISION=${commit}`
  );
}

/** HF_HUB_OFFLINE as the Hugging Face libraries read it: 1, true, yes or on. */
export function offlineFromEnv(env: Record<string, string | undefined>): boolean {
  const value = env.HF_HUB_OFFLINE?.trim().toLowerCase();
  return value !== undefined && ["1", "true", "yes", "on"].includes(value);
}
