import { parseArgs } from "node:util";
import {
  checkPullRequest,
  failure,
  type Outcome,
  offlineFromEnv,
  type PullRequest,
} from "../../gpu-service/model/pull/index.ts";

export const USAGE = `Usage: npm run model:pull -- <repo id> [options]

Downloads a CLIP ONNX export in the Hugging Face/Xenova layout (config, tokenizer and both encoders of one
precision) into a model folder the GPU service can serve. Interrupted downloads resume when run again; files
already verified are not fetched again; a second pull into the same folder waits for the first.

  <repo id>              e.g. Xenova/clip-vit-base-patch32
  --revision R           branch, tag or commit (default: main)
  --dest DIR             destination folder (default: models/<repo name>, which git ignores)
  --precision P          fp32 | fp16 | quantized (default: fp32); fails if the repo lacks that precision
  --hub-url URL          Hub to download from (default: $HF_ENDPOINT, else https://huggingface.co)
  --retries N            extra attempts per interrupted file, each resuming (default: 3)
  -h, --help             this text

Environment: HF_TOKEN (an hf_... token, for private or gated repos), HF_ENDPOINT, HF_HUB_OFFLINE=1 (check the
folder pulled before, without the Hub).`;

export interface PullArgs extends PullRequest {
  retries: number;
}

/**
 * Reads the command line and environment. `{ help: true }` when help was asked for.
 *
 * @example parsePullArgs(["Xenova/clip-vit-base-patch32", "--precision", "fp16"], {}) // dest models/clip-vit-base-patch32
 */
export function parsePullArgs(
  argv: string[],
  env: Record<string, string | undefined>,
): Outcome<PullArgs | { help: true }> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return failure("usage", `${(error as Error).message.split("\n")[0]} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, value: { help: true } };
  if (positionals.length !== 1)
    return failure("usage", "expected one repo id, e.g. npm run model:pull -- Xenova/clip-vit-base-patch32");

  const retries = Number(values.retries ?? "3");
  if (!Number.isInteger(retries) || retries < 0 || retries > 100)
    return failure("usage", `--retries must be an integer in 0..100, got "${values.retries}"`);

  const request = checkPullRequest({
    repo: positionals[0] as string,
    revision: values.revision,
    dest: values.dest,
    precision: values.precision,
    hubUrl: values["hub-url"] ?? env.HF_ENDPOINT,
    accessToken: env.HF_TOKEN,
    offline: offlineFromEnv(env),
  });
  if (!request.ok) return request;
  return { ok: true, value: { ...request.value, retries } };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      revision: { type: "string" },
      dest: { type: "string" },
      precision: { type: "string" },
      "hub-url": { type: "string" },
      retries: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
