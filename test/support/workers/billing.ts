import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { Problem } from "../../../src/api/index.ts";
import {
  type CreatedApiKey,
  DEFAULT_PLANS,
  type Plan,
  type UsageRecord,
} from "../../../src/billing/index.ts";
import type { KeyMeter } from "../../../workers/billing/key-meter/index.ts";
import worker from "../../../workers/index.ts";
import { checkContract } from "./contract.ts";

const prices = DEFAULT_PLANS.pro?.prices_micros as Plan["prices_micros"];
const roomy = { images: 1_000_000, texts: 1_000_000, item_writes: 1_000_000, queries: 1_000_000 };
const roomyStorage = { collections: 1_000, items: 1_000_000, label_sets: 1_000, labels_per_set: 2_000 };

/** Plans for the billing tests, next to the default ones. */
export const TEST_PLANS: Record<string, Plan> = {
  ...DEFAULT_PLANS,
  /**
   * Small monthly quotas: 3 images, 10 texts, 5 item writes, 5 queries; 2 collections of 10 items in all; 2 label
   * sets of at most 4 labels.
   */
  tiny: {
    requests_per_second: 1000,
    burst: 1000,
    monthly_quota: { images: 3, texts: 10, item_writes: 5, queries: 5 },
    prices_micros: prices,
    storage_limits: { collections: 2, items: 10, label_sets: 2, labels_per_set: 4 },
    explain_max_grid: 4,
  },
  /** A burst of 3, then one request per 100 s. */
  slow: {
    requests_per_second: 0.01,
    burst: 3,
    monthly_quota: roomy,
    prices_micros: prices,
    storage_limits: roomyStorage,
    explain_max_grid: 14,
  },
  /** Room for any concurrency test. */
  wide: {
    requests_per_second: 1000,
    burst: 1000,
    monthly_quota: roomy,
    prices_micros: prices,
    storage_limits: roomyStorage,
    explain_max_grid: 14,
  },
};

/** One bindings object for all billing tests, so services are built once, as in one production isolate. */
export const billingEnv = { ...env, BILLING_PLANS: JSON.stringify(TEST_PLANS) } as Env;

/** Calls the Worker with `key` as the bearer (none when null), inside workerd, waiting for its waitUntil work. */
export async function edge(
  path: string,
  options: { key: string | null; init?: RequestInit; bindings?: Env },
): Promise<Response> {
  const headers = new Headers(options.init?.headers);
  if (options.key !== null && !headers.has("authorization"))
    headers.set("authorization", `Bearer ${options.key}`);
  const ctx = createExecutionContext();
  const request = new Request(`https://edge.test${path}`, { ...options.init, headers });
  const response = await worker.fetch(request, options.bindings ?? billingEnv, ctx);
  await waitOnExecutionContext(ctx);
  await checkContract(request, response);
  return response;
}

export function postJsonWith(key: string | null, path: string, body: unknown, headers: HeadersInit = {}) {
  return edge(path, {
    key,
    init: {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...Object.fromEntries(new Headers(headers)) },
    },
  });
}

/** Calls an admin route with the test ADMIN_TOKEN. */
export function admin(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${env.ADMIN_TOKEN}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return edge(path, { key: null, init: { ...init, headers } });
}

let keyCount = 0;

/** Creates a key through the admin API, on a fresh account unless one is given. */
export async function createKey(
  options: { plan?: string; account?: string; name?: string } = {},
): Promise<CreatedApiKey> {
  keyCount += 1;
  const response = await admin("/admin/keys", {
    method: "POST",
    body: JSON.stringify({
      name: options.name ?? `test key ${keyCount}`,
      plan: options.plan ?? "wide",
      account: options.account ?? `acct-${crypto.randomUUID()}`,
    }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as CreatedApiKey;
}

export function meterOf(keyId: string): DurableObjectStub<KeyMeter> {
  return env.KEY_METER.get(env.KEY_METER.idFromName(keyId));
}

type MonthTotals = {
  requests: number;
  images: number;
  texts: number;
  item_writes: number;
  queries: number;
  cost_micros: number;
};

/** What a key's Durable Object has committed, read straight from its SQLite storage. */
export async function committed(keyId: string): Promise<{
  records: (UsageRecord & { export_state: number })[];
  month: MonthTotals;
}> {
  return runInDurableObject(meterOf(keyId), (_instance: KeyMeter, state) => {
    const sql = state.storage.sql;
    const records = sql
      .exec<{ record: string; export_state: number }>(
        "SELECT record, export_state FROM usage_records ORDER BY created_at, id",
      )
      .toArray()
      .map((row) => ({ ...(JSON.parse(row.record) as UsageRecord), export_state: row.export_state }));
    const month = sql
      .exec<MonthTotals>(
        `SELECT COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(images), 0) AS images,
           COALESCE(SUM(texts), 0) AS texts, COALESCE(SUM(item_writes), 0) AS item_writes,
           COALESCE(SUM(queries), 0) AS queries, COALESCE(SUM(cost_micros), 0) AS cost_micros
         FROM monthly_usage`,
      )
      .one();
    return { records, month };
  });
}

/** Calls a /v1 route with `key`, a JSON body when one is given, and any more headers. */
export function call(
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return edge(path, {
    key,
    init: {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    },
  });
}

/** Asserts the answer's status (its body shown when it differs) and returns its JSON. */
export async function ok<T = Record<string, unknown>>(response: Response, status = 200): Promise<T> {
  expect(response.status, await response.clone().text()).toBe(status);
  return (await response.json()) as T;
}

/** Asserts an RFC 9457 problem with this status and code, and returns it. */
export async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = (await response.json()) as Problem;
  expect(problem.code).toBe(code);
  return problem;
}

export { sumUnits } from "../../../src/billing/index.ts";
