import { writeFileSync } from "node:fs";
import { AdminApiError } from "../keys/admin-client.ts";
import { parseSoakArgs, type SoakArgs, USAGE } from "./args.ts";
import { renderReport, resultJson } from "./report.ts";
import { runSoak } from "./run.ts";

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * `npm run soak -- …`: returns the exit code — 0 when billing reconciles and every answer was as expected, 1 on
 * any mismatch or unexpected answer (or when the run cannot start), 2 on bad arguments. The report goes to stdout,
 * progress to stderr.
 */
export async function main(argv: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  let args: SoakArgs;
  try {
    args = parseSoakArgs(argv, env);
  } catch (error) {
    io.stderr.write(`soak: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const result = await runSoak(args.options, (line) => io.stderr.write(`[soak] ${line}\n`));
    io.stdout.write(renderReport(result));
    if (args.options.json) writeFileSync(args.options.json, resultJson(result));
    return result.ok ? 0 : 1;
  } catch (error) {
    const message =
      error instanceof AdminApiError && error.status !== 0
        ? `the admin API refused: ${error.message} (${error.code})`
        : (error as Error).message;
    io.stderr.write(`soak: ${message}\n`);
    return 1;
  }
}
