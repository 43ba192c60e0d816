import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../../test/support/edge-stack.ts";
import { modelPresent } from "../../test/support/gpu-service.ts";
import { applyMigrations, bootstrapLocalStack } from "../local-stack/bootstrap.ts";
import { main } from "./main.ts";

const ADMIN_TOKEN = "admin-token-of-the-keys-cli-test-0123456789abcdef";

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(
    argv,
    {},
    {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    },
  );
  return { code, stdout, stderr };
}

/** Against the real Worker in Miniflare (D1, Durable Objects, KV from wrangler.toml), as `npm start` runs it. */
describe.skipIf(!modelPresent())("the keys CLI and the local-stack bootstrap", () => {
  let stack: EdgeStack;
  let options: string[];
  const models = (key: string) =>
    fetch(`${stack.edgeUrl}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then(
      (r) => r.status,
    );

  beforeAll(async () => {
    stack = await startEdgeStack({ ADMIN_TOKEN });
    // The stack applied the migrations on start; applying again finds nothing left to do.
    const db = await stack.miniflare.getD1Database("DB");
    const recorded = await db.prepare("SELECT name FROM d1_migrations").all<{ name: string }>();
    expect(recorded.results.map((r) => r.name)).toContain("0001_api_keys_and_usage.sql");
    expect(await applyMigrations(db)).toEqual([]);
    options = ["--url", stack.edgeUrl, "--admin-token", ADMIN_TOKEN];
  }, 180_000);
  afterAll(() => stack?.stop());

  it("creates a key and prints it alone on the last line; list shows it; revoke stops it", async () => {
    const created = await run([
      "create",
      "--name",
      "cli test",
      "--plan",
      "pro",
      "--account",
      "acme",
      ...options,
    ]);
    expect(created.code).toBe(0);
    const lines = created.stdout.trimEnd().split("\n");
    const key = lines.at(-1) as string;
    expect(key).toMatch(/^clip_live_[0-9A-Za-z]{43}$/);
    const id = /created (key_[0-9a-f]{16})/.exec(created.stdout)?.[1] as string;
    expect(await models(key)).toBe(200);

    const listed = await run(["list", "--account", "acme", ...options]);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain("cli test");
    expect(listed.stdout).not.toContain(key);

    expect((await run(["revoke", id, ...options])).code).toBe(0);
    expect(await models(key)).toBe(401);
    const json = JSON.parse((await run(["list", "--account", "acme", "--json", ...options])).stdout);
    expect(json[0]).toMatchObject({ id, status: "revoked" });
  });

  it("reports a refused admin token on stderr with exit code 1, never echoing the token", async () => {
    const result = await run(["list", "--url", stack.edgeUrl, "--admin-token", "wrong-token-123"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("forbidden");
    expect(result.stderr).not.toContain("wrong-token-123");
    expect((await run(["create", "--name", "x", "--plan", "gold", ...options])).stderr).toContain(
      'no plan "gold"',
    );
  });

  it("bootstraps one development key, reused on every later start, replaced only when it stops working", async () => {
    const devKeyPath = join(mkdtempSync(join(tmpdir(), "dev-key-")), ".wrangler", "dev-key.json");
    const target = { edgeUrl: stack.edgeUrl, adminToken: ADMIN_TOKEN, devKeyPath };
    const first = await bootstrapLocalStack(target);
    expect(first.created).toBe(true);
    expect(await models(first.devKey as string)).toBe(200);
    expect(statSync(devKeyPath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(devKeyPath, "utf8"))).toEqual({ id: first.keyId, key: first.devKey });

    const second = await bootstrapLocalStack(target);
    expect(second).toEqual({ ...first, created: false });

    await run(["revoke", first.keyId as string, ...options]);
    const third = await bootstrapLocalStack(target);
    expect(third.created).toBe(true);
    expect(third.devKey).not.toBe(first.devKey);
  });
});
