import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";

export interface FakeRepoSpec {
  /** owner/name */
  id: string;
  /** A folder whose files become the repo's files at its one commit. */
  dir: string;
  /** Answer 401 unless the request carries `Authorization: Bearer <token>`, as the Hub does for private repos. */
  private?: boolean;
}

export interface ModelHubOptions {
  repos: FakeRepoSpec[];
  token?: string;
  /** Answer the xet file-info probe for LFS files, as the Hub does for repos migrated to Xet storage. */
  xet?: boolean;
  /** Entries per page of the tree listing; small values exercise the Link-header paging. */
  treePageSize?: number;
  /**
   * false: a Range that starts after byte 0 is answered 200 with the whole file, as by a server that cannot resume.
   * The `bytes=0-0` size probe of the hub library still gets its 206 (the library needs it).
   */
  resumes?: boolean;
}

/** Misbehaviour to inject into file downloads, matched by repo path. */
export type Fault =
  /** Send `afterBytes` of the body, then drop the connection; `times` is how many downloads this happens to. */
  | { kind: "drop"; path: string; afterBytes: number; times: number; reached?: () => void }
  /**
   * Send `afterBytes`, then nothing more while keeping the connection open (a stalled CDN) — until `until` settles,
   * if given, when the rest follows. `reached` is called once the first `afterBytes` are on the wire.
   */
  | {
      kind: "stall";
      path: string;
      afterBytes: number;
      times: number;
      until?: Promise<void>;
      reached?: () => void;
    }
  /** Serve the right size with one byte flipped, so only the hash can tell. */
  | { kind: "corrupt"; path: string }
  /**
   * Answer a download of `path` (not the hub library's `bytes=0-0` size probe) with `status` and an empty body, e.g.
   * 429 or 503 from a busy CDN, with `Retry-After: retryAfter` when given.
   */
  | { kind: "status"; path: string; status: number; times: number; retryAfter?: string }
  /** Answer the API's model info (`revision`) or tree listing (`tree`) with `status`, as a busy or rate-limiting Hub. */
  | { kind: "api-status"; endpoint: ApiEndpoint; status: number; times: number; retryAfter?: string }
  /** Accept the API request and never answer it: no status line, no headers (a hung Hub). */
  | { kind: "api-hang"; endpoint: ApiEndpoint; times: number };

export type ApiEndpoint = "revision" | "tree";

export interface SeenRequest {
  server: "hub" | "cdn";
  method: string;
  url: string;
  range?: string;
  authorization?: string;
  /** The repo path whose bytes this request was answered with (a download, or the hub library's size probe). */
  served?: string;
}

export interface ModelHub {
  url: string;
  requests: SeenRequest[];
  faults: Fault[];
  close(): Promise<void>;
}

interface StoredFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  /** The git blob id of what git stores: the content, or for LFS files the pointer. */
  gitOid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

interface StoredRepo {
  id: string;
  commit: string;
  private: boolean;
  files: StoredFile[];
}

/**
 * The part of the Hugging Face Hub that @huggingface/hub's modelInfo, listFiles, fileDownloadInfo and downloadFile
 * call, on 127.0.0.1: model info by revision, the paged tree listing, and `resolve` with the Hub's headers
 * (X-Repo-Commit, ETag, X-Linked-Size/ETag, Range → 206, errors with X-Error-Code). LFS files (`*.onnx`) redirect
 * to a second server on another port standing in for the CDN, so cross-origin redirects are real.
 *
 * Serve `models/tiny-clip` (TINY_CLIP_REPO in model-repos.ts) for a folder the service really loads.
 *
 * @example const hub = await startModelHub({ repos: [TINY_CLIP_REPO] }); // then --hub-url hub.url
 */
export async function startModelHub(options: ModelHubOptions): Promise<ModelHub> {
  const repos = new Map(options.repos.map((spec) => [spec.id, storeRepo(spec)]));
  const requests: SeenRequest[] = [];
  const faults: Fault[] = [];
  const pageSize = options.treePageSize ?? 1000;
  const record = (server: "hub" | "cdn", req: IncomingMessage): SeenRequest => {
    const seen: SeenRequest = {
      server,
      method: req.method ?? "GET",
      url: req.url ?? "/",
      range: req.headers.range,
      authorization: req.headers.authorization,
    };
    requests.push(seen);
    return seen;
  };

  const cdn = createServer((req, res) => {
    const seen = record("cdn", req);
    const sha = /^\/lfs\/([0-9a-f]{64})$/.exec(req.url ?? "")?.[1];
    const file = [...repos.values()].flatMap((repo) => repo.files).find((f) => f.sha256 === sha);
    if (!file) return json(res, 404, { error: "Not found" });
    seen.served = file.path;
    serveBytes(req, res, file, faults, file.sha256, options.resumes ?? true);
  });
  const cdnUrl = await listen(cdn);

  const hub = createServer((req, res) => {
    const seen = record("hub", req);
    const url = new URL(req.url ?? "/", hubUrl);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const [repoId, revision] = api ? [api[1], api[3]] : resolve ? [resolve[1], resolve[2]] : [];
    const injected = api && takeApiFault(faults, api[2] as ApiEndpoint);
    if (injected?.kind === "api-hang") return; // the socket stays open until close()
    if (injected?.kind === "api-status") return answerStatus(res, injected.status, injected.retryAfter);
    const repo = repos.get(repoId ?? "");
    if (!repo) return json(res, 404, { error: "Repository not found" }, "RepoNotFound");
    if (repo.private && req.headers.authorization !== `Bearer ${options.token}`)
      return json(res, 401, { error: "Invalid username or password." }, "RepoNotFound");
    const rev = decodeURIComponent(revision ?? "");
    if (rev !== "main" && rev !== repo.commit)
      return json(res, 404, { error: `Invalid rev id: ${rev}` }, "RevisionNotFound");

    if (api?.[2] === "revision") {
      return json(res, 200, {
        _id: `id-${repo.id}`,
        id: repo.id,
        sha: repo.commit,
        private: repo.private,
        gated: false,
        pipeline_tag: "zero-shot-image-classification",
        downloads: 0,
        likes: 0,
        lastModified: "2025-01-01T00:00:00.000Z",
        siblings: repo.files.map((f) => ({ rfilename: f.path })),
      });
    }
    if (api?.[2] === "tree") {
      const entries = treeEntries(repo, api[4] ?? "", url.searchParams.get("recursive") === "true");
      const from = Number(url.searchParams.get("cursor") ?? 0);
      if (from + pageSize < entries.length) {
        const next = new URL(url);
        next.searchParams.set("cursor", String(from + pageSize));
        res.setHeader("Link", `<${next.href}>; rel="next"`);
      }
      return json(res, 200, entries.slice(from, from + pageSize));
    }
    const file = repo.files.find((f) => f.path === resolve?.[3]);
    if (!file) return json(res, 404, { error: "Entry not found" }, "EntryNotFound");
    res.setHeader("X-Repo-Commit", repo.commit);
    if (!file.lfs) {
      seen.served = file.path;
      return serveBytes(req, res, file, faults, file.gitOid, options.resumes ?? true);
    }

    res.setHeader("X-Linked-Size", file.bytes.length);
    res.setHeader("X-Linked-ETag", `"${file.sha256}"`);
    res.setHeader("ETag", `"${file.gitOid}"`);
    if (options.xet && req.headers.accept?.includes("application/vnd.xet-fileinfo+json")) {
      res.setHeader("X-Xet-Hash", createHash("sha256").update(`xet:${file.sha256}`).digest("hex"));
      res.setHeader(
        "Link",
        `<${cdnUrl}/xet-auth>; rel="xet-auth", <${cdnUrl}/xet-reconstruction/${file.sha256}>; rel="xet-reconstruction-info"`,
      );
      res.writeHead(200, { "Content-Type": "application/vnd.xet-fileinfo+json" });
      return res.end(JSON.stringify({ hash: file.sha256, size: file.bytes.length }));
    }
    res.writeHead(302, { Location: `${cdnUrl}/lfs/${file.sha256}` });
    res.end();
  });
  const hubUrl = await listen(hub);

  return {
    url: hubUrl,
    requests,
    faults,
    async close() {
      for (const server of [hub, cdn]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}

function storeRepo(spec: FakeRepoSpec): StoredRepo {
  const files = walk(spec.dir).map((absolute): StoredFile => {
    const bytes = readFileSync(absolute);
    const path = relative(spec.dir, absolute).split("\\").join("/");
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (!path.endsWith(".onnx")) return { path, bytes, sha256, gitOid: gitBlobId(bytes) };
    const pointer = Buffer.from(
      `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${bytes.length}\n`,
    );
    return {
      path,
      bytes,
      sha256,
      gitOid: gitBlobId(pointer),
      lfs: { oid: sha256, size: bytes.length, pointerSize: pointer.length },
    };
  });
  const commit = createHash("sha1").update(`commit of ${spec.id}`).digest("hex");
  return { id: spec.id, commit, private: spec.private ?? false, files };
}

function treeEntries(repo: StoredRepo, under: string, recursive: boolean): object[] {
  const prefix = under === "" ? "" : `${under.replace(/\/$/, "")}/`;
  const directories = new Set<string>();
  const entries: object[] = [];
  for (const file of repo.files) {
    if (!file.path.startsWith(prefix)) continue;
    const rest = file.path.slice(prefix.length).split("/");
    for (let depth = 1; depth < rest.length && (recursive || depth === 1); depth++)
      directories.add(prefix + rest.slice(0, depth).join("/"));
    if (!recursive && rest.length > 1) continue;
    entries.push({
      type: "file",
      oid: file.gitOid,
      size: file.bytes.length,
      path: file.path,
      ...(file.lfs && { lfs: file.lfs }),
    });
  }
  for (const path of directories)
    entries.push({ type: "directory", oid: gitBlobId(Buffer.from(path)), size: 0, path });
  return entries.sort((a, b) => ((a as { path: string }).path < (b as { path: string }).path ? -1 : 1));
}

/** A file body with HTTP Range support (one `bytes=a-b` or `bytes=a-` range) and the injected faults. */
function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  file: StoredFile,
  faults: Fault[],
  etag: string,
  resumes: boolean,
): void {
  let body = file.bytes;
  if (faults.some((f) => f.kind === "corrupt" && f.path === file.path)) {
    body = Buffer.from(body);
    const middle = Math.floor(body.length / 2);
    body[middle] = (body[middle] ?? 0) ^ 0xff;
  }
  res.setHeader("ETag", `"${etag}"`);
  if (resumes) res.setHeader("Accept-Ranges", "bytes");
  const asked = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  const range = resumes || asked?.[1] === "0" ? asked : null;
  let status = 200;
  if (range) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
    if (start >= body.length || end < start) {
      res.writeHead(416, { "Content-Range": `bytes */${body.length}` });
      return void res.end();
    }
    res.setHeader("Content-Range", `bytes ${start}-${end}/${body.length}`);
    body = body.subarray(start, end + 1);
    status = 206;
  }
  const refusal = faults.find(
    (f): f is Extract<Fault, { kind: "status" }> =>
      f.kind === "status" && f.path === file.path && f.times > 0 && req.headers.range !== "bytes=0-0",
  );
  if (refusal !== undefined) {
    refusal.times--;
    return void answerStatus(res, refusal.status, refusal.retryAfter);
  }
  res.writeHead(status, { "Content-Length": body.length, "Content-Type": "application/octet-stream" });
  if (req.method === "HEAD") return void res.end();
  const cut = faults.find(
    (f): f is Extract<Fault, { afterBytes: number }> =>
      (f.kind === "drop" || f.kind === "stall") &&
      f.path === file.path &&
      f.times > 0 &&
      body.length > f.afterBytes,
  );
  if (cut === undefined) return void res.end(body);
  cut.times--;
  const rest = body.subarray(cut.afterBytes);
  res.write(body.subarray(0, cut.afterBytes), () => {
    cut.reached?.();
    if (cut.kind === "drop") res.socket?.destroy();
    else void cut.until?.then(() => res.end(rest));
  });
}

function takeApiFault(faults: Fault[], endpoint: ApiEndpoint) {
  const fault = faults.find(
    (f): f is Extract<Fault, { endpoint: ApiEndpoint }> =>
      (f.kind === "api-status" || f.kind === "api-hang") && f.endpoint === endpoint && f.times > 0,
  );
  if (fault) fault.times--;
  return fault;
}

function answerStatus(res: ServerResponse, status: number, retryAfter?: string): void {
  res.writeHead(status, {
    "Content-Length": 0,
    ...(retryAfter !== undefined && { "Retry-After": retryAfter }),
  });
  res.end();
}

function json(res: ServerResponse, status: number, body: unknown, errorCode?: string): void {
  res.writeHead(status, {
    "Content-Type": "application/json",
    ...(errorCode && { "X-Error-Code": errorCode }),
  });
  res.end(JSON.stringify(body));
}

function gitBlobId(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
