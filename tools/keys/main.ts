import type { ApiKeyRecord } from "../../src/billing/index.ts";
import { AdminApiError, createApiKey, listApiKeys, revokeApiKey } from "./admin-client.ts";
import { parseKeysArgs, USAGE } from "./args.ts";

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * `npm run keys -- …`: returns the exit code (0 done, 1 refused or unreachable, 2 usage). `create` prints the key
 * alone on the last line of stdout, so `KEY=$(npm run --silent keys -- create --name x | tail -n 1)` works.
 */
export async function main(argv: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  let args: ReturnType<typeof parseKeysArgs>;
  try {
    args = parseKeysArgs(argv, env);
  } catch (error) {
    io.stderr.write(`keys: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { target, run } = args;
  try {
    if (run.command === "create") {
      const created = await createApiKey(target, { name: run.name, plan: run.plan, account: run.account });
      io.stdout.write(
        `created ${created.id} "${created.name}" (plan ${created.plan}, account ${created.account})\n` +
          "the key is shown this once; store it now:\n" +
          `${created.key}\n`,
      );
    } else if (run.command === "list") {
      const keys = await listApiKeys(target, { account: run.account });
      io.stdout.write(run.json ? `${JSON.stringify(keys, null, 2)}\n` : table(keys));
    } else {
      const revoked = await revokeApiKey(target, run.id);
      io.stdout.write(`revoked ${revoked.id} "${revoked.name}" at ${revoked.revoked_at}\n`);
    }
    return 0;
  } catch (error) {
    const message =
      error instanceof AdminApiError ? `${error.message} (${error.code})` : (error as Error).message;
    io.stderr.write(`keys: ${message}\n`);
    return 1;
  }
}

function table(keys: ApiKeyRecord[]): string {
  if (keys.length === 0) return "no keys\n";
  const rows = [
    ["id", "status", "plan", "account", "name", "key", "created", "last used"],
    ...keys.map((k) => [
      k.id,
      k.status,
      k.plan,
      k.account,
      k.name,
      k.hint,
      k.created_at.slice(0, 19),
      k.last_used_at?.slice(0, 19) ?? "never",
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}
