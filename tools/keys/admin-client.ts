import type { ApiKeyRecord, CreatedApiKey } from "../../src/billing/index.ts";

/** Where the admin API is, and the token it wants. */
export interface AdminTarget {
  /** The edge's base URL, e.g. http://127.0.0.1:8787. */
  url: string;
  adminToken: string;
}

/** The admin API refused or failed: its problem code and detail (never the token). */
export class AdminApiError extends Error {
  override name = "AdminApiError";
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

/**
 * Creates a key through `POST /admin/keys`; the answer holds the key, which exists nowhere else.
 *
 * @example const { key } = await createApiKey({ url: "http://127.0.0.1:8787", adminToken }, { name: "iOS app", plan: "pro" })
 */
export function createApiKey(
  target: AdminTarget,
  input: { name: string; plan?: string; account?: string },
): Promise<CreatedApiKey> {
  return call(target, "POST", "/admin/keys", input);
}

export async function listApiKeys(
  target: AdminTarget,
  filter: { account?: string } = {},
): Promise<ApiKeyRecord[]> {
  const query = filter.account ? `?account=${encodeURIComponent(filter.account)}&limit=1000` : "?limit=1000";
  return (await call<{ data: ApiKeyRecord[] }>(target, "GET", `/admin/keys${query}`)).data;
}

export function revokeApiKey(target: AdminTarget, id: string): Promise<ApiKeyRecord> {
  return call(target, "POST", `/admin/keys/${encodeURIComponent(id)}/revoke`);
}

async function call<T>(target: AdminTarget, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(new URL(path, target.url), {
      method,
      headers: {
        authorization: `Bearer ${target.adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new AdminApiError(0, "unreachable", `cannot reach ${target.url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let problem: { code?: string; detail?: string } = {};
    try {
      problem = JSON.parse(text);
    } catch {}
    throw new AdminApiError(
      response.status,
      problem.code ?? `http_${response.status}`,
      problem.detail ?? `${method} ${path} answered ${response.status}`,
    );
  }
  return JSON.parse(text) as T;
}
