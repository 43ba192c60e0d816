// The local stack's keys and billing: D1 migrations before the edge starts, and a development API key once it is up,
// kept across restarts so every `npm start` prints the same key. Called by tools/start.ts and tools/local-stack/edge.ts.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createApiKey } from "../keys/admin-client.ts";

/** Where the development key is kept (git-ignored with the rest of .wrangler/, next to the local state). */
export const DEV_KEY_FILE = ".wrangler/dev-key.json";
const MIGRATIONS_DIR = "migrations";
/** Run with our own Node (wrangler needs ≥ 22.12), whatever `node` comes first on the PATH. */
export const WRANGLER_JS = resolve("node_modules/wrangler/bin/wrangler.js");

/**
 * `wrangler d1 migrations apply DB --local` against the state `wrangler dev --persist-to` uses. Idempotent: applied
 * migrations are recorded in the database. Production: `npx wrangler d1 migrations apply DB --remote`.
 *
 * @example await applyLocalMigrations({ persistTo: ".wrangler/state" })
 */
export async function applyLocalMigrations(
  options: { persistTo?: string; log?: (line: string) => void } = {},
): Promise<void> {
  const persistTo = options.persistTo ?? ".wrangler/state";
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [WRANGLER_JS, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } },
    );
    const collect = (chunk: Buffer) => output.push(chunk.toString());
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("exit", resolve);
  });
  if (code !== 0)
    throw new Error(`applying D1 migrations failed (exit ${code}):\n${output.join("").trim().slice(-2000)}`);
  const applied = /(\d+) commands? executed successfully/.exec(output.join(""));
  options.log?.(applied ? "D1 migrations applied" : "D1 schema is up to date");
}

/** The part of a D1 binding migrations need (Miniflare's `getD1Database("DB")` in Node, `env.DB` in a Worker). */
export interface D1Like {
  prepare(sql: string): {
    bind(...values: unknown[]): { run(): Promise<unknown> };
    run(): Promise<unknown>;
    all<T>(): Promise<{ results: T[] }>;
  };
}

/**
 * Applies `migrations/*.sql` not yet applied to a D1 binding, recording them in `d1_migrations` as wrangler does
 * (so the two never apply one twice). For tests that run the Worker in Miniflare.
 *
 * @example await applyMigrations(await miniflare.getD1Database("DB"))
 */
export async function applyMigrations(db: D1Like, dir = MIGRATIONS_DIR): Promise<string[]> {
  await db
    .prepare(
      `CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE,
         applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`,
    )
    .run();
  const done = new Set(
    (await db.prepare("SELECT name FROM d1_migrations").all<{ name: string }>()).results.map((r) => r.name),
  );
  const pending = readdirSync(dir)
    .filter((name) => name.endsWith(".sql") && !done.has(name))
    .sort();
  for (const name of pending) {
    for (const statement of sqlStatements(readFileSync(join(dir, name), "utf8")))
      await db.prepare(statement).run();
    await db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(name).run();
  }
  return pending;
}

/** Splits a migration into statements (our migrations keep semicolons out of strings and comments). */
function sqlStatements(sql: string): string[] {
  return sql
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface BootstrapResult {
  devKey: string;
  keyId: string;
  /** True when this start created it (first start, or the stored one no longer works). */
  created: boolean;
}

/**
 * Once the edge answers: reuses the development key stored in `.wrangler/dev-key.json` if the edge still accepts
 * it, else creates one (`pro` plan, account `local-dev`) through the admin API and stores it (mode 0600).
 *
 * @example const { devKey } = await bootstrapLocalStack({ edgeUrl: "http://127.0.0.1:8787", adminToken })
 */
export async function bootstrapLocalStack(options: {
  edgeUrl: string;
  adminToken: string;
  devKeyPath?: string;
}): Promise<BootstrapResult> {
  const path = options.devKeyPath ?? DEV_KEY_FILE;
  const stored = readStoredKey(path);
  if (stored && (await stillAccepted(options.edgeUrl, stored.key)))
    return { devKey: stored.key, keyId: stored.id, created: false };
  const created = await createApiKey(
    { url: options.edgeUrl, adminToken: options.adminToken },
    { name: "local development", plan: "pro", account: "local-dev" },
  );
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ id: created.id, key: created.key }, null, 2)}\n`, { mode: 0o600 });
  return { devKey: created.key, keyId: created.id, created: true };
}

/** What `npm start` prints about the key: the key and a request to paste. */
export function devKeyInstructions(edgeUrl: string, devKey: string, devKeyPath = DEV_KEY_FILE): string {
  return `Your development API key (kept in ${devKeyPath}; more keys: npm run --silent keys -- create --name NAME):
  export CLIP_KEY=${devKey}
  curl -s ${edgeUrl}/v1/embeddings -H "authorization: Bearer $CLIP_KEY" \\
    -H 'content-type: application/json' -d '{"input":["a red circle"]}'
  curl -s ${edgeUrl}/v1/usage -H "authorization: Bearer $CLIP_KEY"`;
}

function readStoredKey(path: string): { id: string; key: string } | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as { id?: unknown; key?: unknown };
    return typeof value.id === "string" && typeof value.key === "string"
      ? { id: value.id, key: value.key }
      : undefined;
  } catch {
    return undefined;
  }
}

// Only a 401 means the key is gone (state wiped, or revoked); a rate limit or an outage keeps it.
async function stillAccepted(edgeUrl: string, key: string): Promise<boolean> {
  const response = await fetch(new URL("/v1/models", edgeUrl), {
    headers: { authorization: `Bearer ${key}` },
  });
  await response.body?.cancel();
  return response.status !== 401;
}
