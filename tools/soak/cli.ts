// npm run soak -- [--clients 64] [--seconds 60] [--mix classify,embeddings,captions] [--fault kill-gpu|term-gpu] …
// Load and fault harness for the local stack, ending in an exact billing reconciliation; see main.ts and --help.
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
});
