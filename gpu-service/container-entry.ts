// The container's entry point: optionally pulls a model from the Hugging Face Hub (MODEL_PULL=<repo id>, into
// MODEL_DIR), then runs the service. Pulling is resumable, so a restarted container continues a partial download.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const repo = process.env.MODEL_PULL;
const modelDir = process.env.MODEL_DIR ?? "models/tiny-clip";
if (repo && !existsSync(join(modelDir, "config.json"))) {
  const args = [
    "tools/model-pull/cli.ts",
    repo,
    "--dest",
    modelDir,
    "--precision",
    process.env.MODEL_PRECISION ?? "fp32",
  ];
  const pull = spawnSync(process.execPath, args, { stdio: "inherit" });
  if (pull.status !== 0) process.exit(pull.status ?? 1);
}
await import("./main.ts");
