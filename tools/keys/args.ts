import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { AdminTarget } from "./admin-client.ts";

export const USAGE = `Usage: npm run --silent keys -- <command> [options]

Manages API keys through the edge's admin API (by default the local stack that npm start runs).

  create --name NAME [--plan PLAN] [--account ACCOUNT]
                         creates a key and prints it alone on the last line (it is shown this once)
  list [--account ACCOUNT] [--json]
                         lists keys (never the keys themselves)
  revoke ID              revokes a key; it stops working at once

  --url URL              the edge (default: $EDGE_URL, else http://127.0.0.1:8787)
  --admin-token TOKEN    the admin token (default: $ADMIN_TOKEN, else ADMIN_TOKEN from .dev.vars)
  -h, --help             this text`;

export type KeysCommand =
  | { command: "create"; name: string; plan?: string; account?: string }
  | { command: "list"; account?: string; json: boolean }
  | { command: "revoke"; id: string };

export type KeysArgs = { help: true } | { help?: false; target: AdminTarget; run: KeysCommand };

/**
 * Reads the command line, the environment and (for the token) `.dev.vars`. Throws an Error with a usage message.
 *
 * @example parseKeysArgs(["create", "--name", "iOS app"], { ADMIN_TOKEN: "t" }).run // { command: "create", name: "iOS app" }
 */
export function parseKeysArgs(
  argv: string[],
  env: Record<string, string | undefined>,
  devVarsPath = ".dev.vars",
): KeysArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      plan: { type: "string" },
      account: { type: "string" },
      url: { type: "string" },
      "admin-token": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { help: true };
  const [command, ...rest] = positionals;
  const run = commandOf(command, rest, values);
  const url = values.url ?? env.EDGE_URL ?? "http://127.0.0.1:8787";
  if (!URL.canParse(url)) throw new Error(`--url must be a URL, got "${url}"`);
  const adminToken = values["admin-token"] ?? env.ADMIN_TOKEN ?? readDevVar(devVarsPath, "ADMIN_TOKEN");
  if (!adminToken)
    throw new Error(
      "no admin token: pass --admin-token, set ADMIN_TOKEN, or run npm start once to create .dev.vars",
    );
  return { target: { url, adminToken }, run };
}

function commandOf(
  command: string | undefined,
  rest: string[],
  values: { name?: string; plan?: string; account?: string; json?: boolean },
): KeysCommand {
  switch (command) {
    case "create":
      if (rest.length) throw new Error(`create takes no positional arguments, got "${rest.join(" ")}"`);
      if (!values.name) throw new Error("create needs --name NAME");
      return { command, name: values.name, plan: values.plan, account: values.account };
    case "list":
      if (rest.length) throw new Error(`list takes no positional arguments, got "${rest.join(" ")}"`);
      return { command, account: values.account, json: values.json ?? false };
    case "revoke":
      if (rest.length !== 1)
        throw new Error("revoke needs exactly one key id, e.g. revoke key_0123456789abcdef");
      return { command, id: rest[0] as string };
    default:
      throw new Error(command ? `unknown command "${command}"` : "name a command: create, list or revoke");
  }
}

/** A value from a dotenv-style file, or undefined. */
export function readDevVar(path: string, name: string): string | undefined {
  if (!existsSync(path)) return undefined;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1] === name) return match[2]?.replace(/^"(.*)"$/, "$1") || undefined;
  }
  return undefined;
}
