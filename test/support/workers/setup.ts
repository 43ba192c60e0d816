// Runs inside workerd before each Worker test file: the D1 schema, and the default test key (idempotent, since
// files may share storage).
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { hashApiKey, keyHint } from "../../../src/billing/index.ts";
import { TEST_API_KEY, TEST_KEY_ID } from "./api-key.ts";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await env.DB.prepare(
  `INSERT OR IGNORE INTO api_keys (id, key_hash, hint, name, account, plan, status, created_at)
   VALUES (?, ?, ?, 'worker tests', 'test', 'pro', 'active', ?)`,
)
  .bind(TEST_KEY_ID, await hashApiKey(TEST_API_KEY), keyHint(TEST_API_KEY), Date.now())
  .run();
