import {
  downloadFile,
  fileDownloadInfo,
  HubApiError,
  InvalidApiResponseFormatError,
  listFiles,
  modelInfo,
} from "@huggingface/hub";
import { isUnavailableStatus, parseRetryAfter } from "./http-status.ts";
import type { RepoFile } from "./layout.ts";
import { failure, type Outcome, type PullError } from "./outcome.ts";

/** Where a pull reads from. The token is only ever put in an Authorization header, never in a message. */
export interface HubRepo {
  hubUrl: string;
  repo: string;
  accessToken?: string;
  /** Cancels requests under way (a stop signal while a container starts). */
  signal?: AbortSignal;
  /**
   * How long one request to the Hub's API (commit, listing, file info, config.json) may take, answer included
   * (default HUB_REQUEST_TIMEOUT_MS). A hung Hub must not hold a start for minutes before the verified folder serves.
   */
  requestTimeoutMs?: number;
}

export const HUB_REQUEST_TIMEOUT_MS = 30_000;

/** What the library's requests of one call ran into, for describeHubError. */
export interface CallTrace {
  timedOut: boolean;
  retryAfter: string | null;
}

/**
 * Runs one library call with our fetch: each request is cancelled by the pull's signal and by its own timeout, and
 * the last answer's Retry-After is kept (the library's errors drop the headers). Errors become values here.
 */
async function callHub<T>(
  hub: HubRepo,
  context: { revision?: string; path?: string },
  run: (fetch: typeof globalThis.fetch) => Promise<Outcome<T>>,
): Promise<Outcome<T>> {
  const timeoutMs = hub.requestTimeoutMs ?? HUB_REQUEST_TIMEOUT_MS;
  const trace: CallTrace = { timedOut: false, retryAfter: null };
  const hubFetch: typeof globalThis.fetch = async (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = [timeout, init?.signal, hub.signal].filter((s): s is AbortSignal => s != null);
    try {
      const response = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
      trace.retryAfter = response.headers.get("retry-after");
      return response;
    } catch (error) {
      if (timeout.aborted) trace.timedOut = true;
      throw error;
    }
  };
  try {
    return await run(hubFetch);
  } catch (error) {
    // A body read cut by the timeout fails outside our fetch, with the timeout's reason.
    if ((error as { name?: unknown })?.name === "TimeoutError") trace.timedOut = true;
    return {
      ok: false,
      error: describeHubError(error, { ...hub, requestTimeoutMs: timeoutMs }, context, trace),
    };
  }
}

/**
 * Turns a branch or tag into the commit it points at, so every later request reads one consistent snapshot even
 * if someone pushes to the branch mid-pull.
 *
 * @example await resolveCommit({ hubUrl: "https://huggingface.co", repo: "Xenova/clip-vit-base-patch32" }, "main")
 */
export async function resolveCommit(hub: HubRepo, revision: string): Promise<Outcome<string>> {
  return callHub(hub, { revision }, async (fetch) => {
    const info = await modelInfo({
      name: hub.repo,
      revision,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      additionalFields: ["sha"],
      fetch,
    });
    if (typeof info.sha !== "string" || info.sha === "")
      return failure("hub-error", `${hub.hubUrl} did not say which commit ${revision} of ${hub.repo} is`);
    return { ok: true, value: info.sha };
  });
}

/** Every file at `commit`, with the sizes and hashes the Hub's tree listing provides (it pages; listFiles follows). */
export async function listRepoFiles(hub: HubRepo, commit: string): Promise<Outcome<RepoFile[]>> {
  return callHub(hub, {}, async (fetch) => {
    const files: RepoFile[] = [];
    for await (const entry of listFiles({
      repo: hub.repo,
      revision: commit,
      recursive: true,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      fetch,
    })) {
      if (entry.type !== "file") continue;
      files.push({
        path: entry.path,
        size: entry.size,
        ...(entry.lfs ? { sha256: entry.lfs.oid } : entry.oid ? { gitBlobId: entry.oid } : {}),
      });
    }
    return { ok: true, value: files };
  });
}

/**
 * The URL to GET `path` from, and its size, as the Hub's resolve endpoint reports them. We ask for the plain
 * (redirecting) URL even for Xet-backed files: the CDN behind it answers Range requests, which is what resuming needs.
 */
export async function resolveDownload(
  hub: HubRepo,
  commit: string,
  path: string,
): Promise<Outcome<{ url: string; size: number }>> {
  return callHub(hub, { path }, async (fetch) => {
    const info = await fileDownloadInfo({
      repo: hub.repo,
      revision: commit,
      path,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      fetch,
    });
    if (info === null) return failure("hub-error", `${hub.repo} lists ${path} but the Hub cannot serve it`);
    return { ok: true, value: { url: info.url, size: info.size } };
  });
}

/** A small file's text, read without touching the disk (the model_type check before gigabytes are fetched). */
export async function readSmallFile(hub: HubRepo, commit: string, path: string): Promise<Outcome<string>> {
  return callHub(hub, { path }, async (fetch) => {
    const blob = await downloadFile({
      repo: hub.repo,
      revision: commit,
      path,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      xet: false,
      fetch,
    });
    if (blob === null) return failure("hub-error", `${hub.repo} lists ${path} but the Hub cannot serve it`);
    return { ok: true, value: await blob.text() };
  });
}

/**
 * Maps what the Hub (or the network) said to a code and a sentence that tells the user what to do. The Hub answers
 * 401, not 404, for a repo it will not admit exists to an anonymous caller, so without a token 401 reads "not found".
 * 408, 429 and 5xx, and no answer within the request timeout, are "hub-unavailable" (http-status.ts).
 */
export function describeHubError(
  error: unknown,
  hub: HubRepo,
  context: { revision?: string; path?: string } = {},
  trace: CallTrace = { timedOut: false, retryAfter: null },
): PullError {
  const what = context.path ? `${hub.repo}/${context.path}` : hub.repo;
  if (hub.signal?.aborted) return { code: "cancelled", message: `${what}: the pull was cancelled` };
  if (trace.timedOut) {
    const seconds = (hub.requestTimeoutMs ?? HUB_REQUEST_TIMEOUT_MS) / 1000;
    return { code: "hub-unavailable", message: `${what}: no answer from ${hub.hubUrl} within ${seconds} s` };
  }
  if (error instanceof HubApiError) {
    const said = hubMessage(error);
    if (error.statusCode === 401 && !hub.accessToken)
      return {
        code: "repo-not-found",
        message: `${hub.repo} was not found on ${hub.hubUrl} (if it is private or gated, set HF_TOKEN)`,
      };
    if (error.statusCode === 401)
      return { code: "access-denied", message: `${hub.hubUrl} did not accept HF_TOKEN for ${what}: ${said}` };
    if (error.statusCode === 403)
      return {
        code: "access-denied",
        message: `no access to ${what}: ${said} (gated repos need their terms accepted on the Hub)`,
      };
    if (error.statusCode === 404 && context.revision !== undefined && /rev/i.test(said))
      return {
        code: "revision-not-found",
        message: `${hub.repo} has no revision "${context.revision}": ${said}`,
      };
    if (error.statusCode === 404 && context.path === undefined)
      return { code: "repo-not-found", message: `${hub.repo} was not found on ${hub.hubUrl}: ${said}` };
    const message = `${what}: the Hub answered ${error.statusCode}: ${said}`;
    if (!isUnavailableStatus(error.statusCode)) return { code: "hub-error", message };
    const retryAfterMs = parseRetryAfter(trace.retryAfter);
    return { code: "hub-unavailable", message, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  if (error instanceof InvalidApiResponseFormatError)
    return { code: "hub-error", message: `${what}: unexpected answer from ${hub.hubUrl}: ${error.message}` };
  return { code: "network", message: `cannot reach ${hub.hubUrl}: ${networkReason(error)}` };
}

function hubMessage(error: HubApiError): string {
  const data = error.data as { error?: unknown; message?: unknown } | undefined;
  const text =
    typeof data?.error === "string" ? data.error : typeof data?.message === "string" ? data.message : "";
  return oneLine(text || error.message);
}

/**
 * fetch() reports "fetch failed" or "terminated" and hides the useful part in `cause`: a system error code
 * (ECONNREFUSED, ENOTFOUND, ECONNRESET) or undici's sentence ("other side closed").
 */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === "string" && /^E[A-Z]+$/.test(cause.code)) return cause.code;
  if (typeof cause?.message === "string") return oneLine(cause.message);
  return oneLine(error instanceof Error ? error.message : String(error));
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 300);
}
