// npm run --silent keys -- create --name NAME [--plan PLAN] [--account A] [--url URL] [--admin-token T] | list | revoke ID
// Manages API keys through the edge's admin API; see main.ts and --help.
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
});
