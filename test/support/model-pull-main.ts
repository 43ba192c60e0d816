// A pull in a process of its own, for tests that kill it or race it (test/support/model-pulls.ts startPullProcess):
// node test/support/model-pull-main.ts '<TestPullOptions as JSON>'. Progress goes to stderr; one result line to stdout.
import { pullForTest, type TestPullOptions } from "./model-pulls.ts";

const options = JSON.parse(process.argv[2] ?? "{}") as TestPullOptions;
process.stdout.write(`pull: started (pid ${process.pid})\n`);
const { result, log } = await pullForTest({
  ...options,
  progress: {
    begin(path, total, resumedFrom) {
      process.stderr.write(`${path}: begin ${total} from ${resumedFrom}\n`);
      return { update() {}, end: (verdict) => process.stderr.write(`${path}: ${verdict}\n`) };
    },
    note: (path, text) => process.stderr.write(`${path}: ${text}\n`),
  },
});
process.stderr.write(log);
process.stdout.write(
  result.ok
    ? `pull: ok ${JSON.stringify(result.value.files)}\n`
    : `pull: failed ${result.error.code} ${result.error.message}\n`,
);
process.exitCode = result.ok ? 0 : 1;
