// npm run captions:build -- --corpus FILE [--model DIR] [--out DIR] [--batch N] [--providers LIST]
// Builds a caption bank for /v1/captions; see main.ts, --help and docs/captions.md.
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
