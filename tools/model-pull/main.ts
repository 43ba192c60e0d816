import {
  createProgress,
  formatBytes,
  type ProgressStream,
  PULL_TIMINGS,
  type PullOptions,
  type PullSummary,
  pullModel,
} from "../../gpu-service/model/pull/index.ts";
import { parsePullArgs, USAGE } from "./args.ts";

export interface Io {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

/** Timings a test shortens; PULL_TIMINGS's suit a real network. */
export type Tuning = Partial<
  Pick<PullOptions, "retryDelayMs" | "retryAfterCapMs" | "stallTimeoutMs" | "requestTimeoutMs">
>;

/**
 * `npm run model:pull` without the process: returns the exit code (0 pulled, 1 failed with a one-line reason on
 * stderr). Progress goes to stderr, the summary to stdout. The pulling itself is gpu-service/model/pull's.
 *
 * @example process.exitCode = await main(process.argv.slice(2), process.env, process)
 */
export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io,
  tuning: Tuning = {},
): Promise<number> {
  const args = parsePullArgs(argv, env);
  if (!args.ok) {
    io.stderr.write(`model:pull: ${args.error.message}\n`);
    return 1;
  }
  if ("help" in args.value) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // --retries (args) wins over PULL_TIMINGS' default count.
  const options = { ...PULL_TIMINGS, ...tuning, ...args.value, progress: createProgress(io.stderr) };
  const result = await pullModel(options);
  if (!result.ok) {
    io.stderr.write(`model:pull: ${result.error.message}\n`);
    return 1;
  }
  io.stdout.write(summarize(result.value));
  return 0;
}

function summarize(summary: PullSummary): string {
  const count = (status: string) => summary.files.filter((file) => file.status === status).length;
  const total = summary.files.reduce((sum, file) => sum + file.size, 0);
  const parts = [
    [count("downloaded"), "downloaded"],
    [count("resumed"), "resumed"],
    [count("up-to-date"), "already there"],
  ].flatMap(([n, what]) => (n === 0 ? [] : [`${n} ${what}`]));
  const precisionEnv = summary.precision === "fp32" ? "" : `MODEL_PRECISION=${summary.precision} `;
  return [
    `Pulled ${summary.repo} at ${summary.commit.slice(0, 7)} (${summary.precision}) into ${summary.dest}`,
    ...(summary.offline ? [`  without the Hub: ${summary.offline}`] : []),
    `  ${summary.files.length} files, ${formatBytes(total)}: ${parts.join(", ")}; ` +
      `${formatBytes(summary.fetched)} fetched in ${summary.seconds.toFixed(1)} s`,
    `Serve it: MODEL_DIR=${summary.dest} ${precisionEnv}npm start`,
    "",
  ].join("\n");
}
